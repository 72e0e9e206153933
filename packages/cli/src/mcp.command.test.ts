import { describe, expect, it } from '@jest/globals';
import { mcpSnippets } from './mcp.command.ts';

describe('./kbflow mcp', () => {
  it('prints a snippet per client, each with the /mcp URL and the key as a Bearer header', () => {
    const text = mcpSnippets('http://127.0.0.1:8080/', 'k-123');
    expect(text).toContain('claude mcp add --transport http kbflow http://127.0.0.1:8080/mcp --header "Authorization: Bearer k-123"');
    const blocks = [...text.matchAll(/^\{[\s\S]*?^\}/gm)].map((m) => JSON.parse(m[0]));
    expect(blocks).toHaveLength(3);
    expect(blocks[0].mcpServers.kbflow).toEqual({ url: 'http://127.0.0.1:8080/mcp', headers: { Authorization: 'Bearer k-123' } });
    expect(blocks[1].servers.kbflow.type).toBe('http');
    expect(blocks[2].mcpServers.kbflow.args).toContain('http://127.0.0.1:8080/mcp');
  });
});
