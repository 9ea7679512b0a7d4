import { configWords, displayName, type LoadedConfig, redact } from '@matric-backup/core';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { ZodRawShape, z } from 'zod';
import type { AccessLevel } from './access.js';
import { type Mask, toolError } from './results.js';

/** What every tool, resource and prompt of one server works with. */
export interface McpContext {
  config: LoadedConfig;
  access: AccessLevel;
  /** Masks the config's secrets; every string a client receives passes through it. */
  mask: Mask;
  /** A warning for the operator (stderr: stdout is the protocol). */
  warn: (message: string) => void;
}

export function createContext(
  config: LoadedConfig,
  access: AccessLevel,
  warn?: (message: string) => void,
): McpContext {
  const words = configWords(config);
  const mask: Mask = (text) => redact(displayName(text), config.secrets, words);
  return {
    config,
    access,
    mask,
    warn: warn ?? ((message) => process.stderr.write(`warning: ${mask(message)}\n`)),
  };
}

export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface ToolDefinition<Shape extends ZodRawShape> {
  title: string;
  description: string;
  input: Shape;
  /** Looks only (true), or changes something (false); clients ask before calling a tool that changes things. */
  readOnly: boolean;
  /** Deletes or overwrites something that cannot be brought back. */
  destructive?: boolean;
  run: (args: z.infer<z.ZodObject<Shape>>, extra: ToolExtra) => Promise<CallToolResult>;
}

/** Registers a tool whose every error, thrown anywhere in it, becomes a tool error in the one way (results.ts). */
export function addTool<Shape extends ZodRawShape>(
  server: McpServer,
  context: McpContext,
  name: string,
  tool: ToolDefinition<Shape>,
): void {
  server.registerTool(
    name,
    {
      title: tool.title,
      description: tool.description,
      inputSchema: tool.input,
      annotations: {
        title: tool.title,
        readOnlyHint: tool.readOnly,
        destructiveHint: tool.destructive ?? false,
        openWorldHint: false,
      },
    },
    // biome-ignore lint/suspicious/noExplicitAny: the SDK infers the arguments from `input`; run declares them.
    (async (args: any, extra: ToolExtra) => {
      try {
        return await tool.run(args, extra);
      } catch (error) {
        return toolError(error, context.mask);
      }
    }) as never,
  );
}

/**
 * Sends MCP progress notifications when the request carries a progress token
 * (else does nothing). Only growing values are sent, as the protocol requires;
 * a client that went away stops hearing them, the work goes on.
 */
export function progressSender(
  extra: ToolExtra,
): (progress: number, message: string, total?: number) => void {
  const token = extra._meta?.progressToken;
  let last = -1;
  return (progress, message, total) => {
    if (token === undefined || progress <= last) return;
    last = progress;
    void extra
      .sendNotification({
        method: 'notifications/progress',
        params: { progressToken: token, progress, ...(total !== undefined && { total }), message },
      })
      .catch(() => undefined);
  };
}
