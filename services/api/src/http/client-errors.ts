import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

const STATUS_BY_CODE: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'headers_too_large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'request_timeout'],
};

/**
 * Answers requests that Node's HTTP parser refuses before Express sees them
 * (a raw non-ASCII byte in the request line, oversized headers, a malformed
 * header) with the API's JSON error shape instead of Node's bare 400.
 */
export function answerClientErrorsAsJson(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, reason, code] = STATUS_BY_CODE[error.code ?? ''] ?? [400, 'Bad Request', 'bad_request'];
    const body = JSON.stringify({ error: { code, message: 'the request could not be parsed as HTTP' } });
    // A response to HEAD has no body (its length is still announced).
    const head = error.rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${head ? '' : body}`,
    );
  });
}
