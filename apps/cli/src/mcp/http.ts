import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LoadedConfig } from '@matric-backup/core';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpServer } from './server.js';

/**
 * One MCP request over HTTP (`serve`'s `/mcp`, behind its token), stateless: a
 * server and transport of its own, closed with the response. Read-only tools
 * only: what acts goes through the API's jobs, which keep one backup at a time
 * with the schedule.
 */
export async function handleMcpRequest(
  config: LoadedConfig,
  request: IncomingMessage,
  response: ServerResponse,
  body: unknown,
): Promise<void> {
  const server = createMcpServer(config, 'read', 'http');
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  response.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(request, response, body);
}
