/**
 * `./kbflow mcp`: how to connect MCP clients to this API's `/mcp` endpoint
 * (Streamable HTTP, the tenant's API key as a Bearer token), as the
 * configuration snippet each client reads.
 */
export function mcpSnippets(apiUrl: string, apiKey: string): string {
  let base = apiUrl;
  while (base.endsWith('/')) base = base.slice(0, -1);
  const url = `${base}/mcp`;
  const auth = `Bearer ${apiKey}`;
  const json = (value: unknown) => JSON.stringify(value, null, 2);
  return [
    `kbflow's MCP server: ${url} (Streamable HTTP; tools: search, ask, list_knowledge_bases, start_crawl, task_status)`,
    'Every call runs with the tenant of the key below, exactly as the REST API would.',
    '',
    '# Claude Code',
    `claude mcp add --transport http kbflow ${url} --header "Authorization: ${auth}"`,
    '',
    '# Cursor (~/.cursor/mcp.json) and other clients that take a URL with headers',
    json({ mcpServers: { kbflow: { url, headers: { Authorization: auth } } } }),
    '',
    '# VS Code (.vscode/mcp.json)',
    json({ servers: { kbflow: { type: 'http', url, headers: { Authorization: auth } } } }),
    '',
    '# Claude Desktop (claude_desktop_config.json), through the mcp-remote bridge',
    json({ mcpServers: { kbflow: { command: 'npx', args: ['-y', 'mcp-remote', url, '--header', `Authorization:${auth}`] } } }),
  ].join('\n');
}
