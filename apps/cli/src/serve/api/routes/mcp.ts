import type { FastifyInstance } from 'fastify';
import type { Service } from '../../service.js';

/**
 * MCP over Streamable HTTP at `/mcp`, behind the API's token like every route:
 * the read-only tools of `matric-backup mcp` on the config in force. Stateless
 * (no session): each POST is answered on its own; GET and DELETE, which serve
 * sessions, are 405. The SDK loads at the first call, not when `serve` starts.
 */
export function mcpRoutes(app: FastifyInstance, service: Service): void {
  app.post('/mcp', { schema: { hide: true } }, async (request, reply) => {
    const { handleMcpRequest } = await import('../../../mcp/http.js');
    reply.hijack();
    await handleMcpRequest(service.config, request.raw, reply.raw, request.body);
  });
  for (const method of ['GET', 'DELETE'] as const) {
    app.route({
      method,
      url: '/mcp',
      schema: { hide: true },
      handler: async (_request, reply) =>
        reply
          .status(405)
          .header('allow', 'POST')
          .send({
            jsonrpc: '2.0',
            error: { code: -32000, message: 'this MCP endpoint is stateless: POST each request' },
            id: null,
          }),
    });
  }
}
