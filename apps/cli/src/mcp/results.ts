import { isDestinationError, isMatricError } from '@matric-backup/core';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ERROR_CODES, hintOf } from '../exit-codes.js';

/** Masks the config's secrets in a string; every string an MCP client receives passes here. */
export type Mask = (text: string) => string;

/**
 * A copy of `value` with every string masked; its keys are kept as they are
 * (the documents are built in snake_case, and keys that are data, such as
 * destination names, are never rewritten). Unlike the CLI's --json, ids and
 * paths are masked too: an assistant's transcript may travel further than a
 * script's output.
 */
export function cleanResult(value: unknown, mask: Mask): unknown {
  if (typeof value === 'string') return mask(value);
  if (Array.isArray(value)) return value.map((item) => cleanResult(item, mask));
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Date) return value.toISOString();
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .map(([key, item]) => [key, cleanResult(item, mask)]),
  );
}

/** A tool's answer: the structured document, and a short text for clients that only show text. */
export function toolResult(summary: string, data: Record<string, unknown>, mask: Mask): CallToolResult {
  return {
    content: [{ type: 'text', text: mask(summary) }],
    structuredContent: cleanResult(data, mask) as Record<string, unknown>,
  };
}

/**
 * The one place an error becomes a tool error: our stable code, the message,
 * the destination it happened on and what to do (the hint the CLI prints), so
 * an assistant can act on it. Anything else is `UNKNOWN` with its message.
 */
export function toolError(error: unknown, mask: Mask): CallToolResult {
  const fields = errorFields(error);
  const where = fields.destination ? `destination "${fields.destination}": ` : '';
  const hint = fields.hint ? `\nhint: ${fields.hint}` : '';
  return {
    isError: true,
    content: [{ type: 'text', text: mask(`error ${fields.code}: ${where}${fields.message}${hint}`) }],
    structuredContent: cleanResult({ error: fields }, mask) as Record<string, unknown>,
  };
}

/** An error as a record: in a tool error, or inside an answer where one destination failed and the others answered. */
export function errorFields(error: unknown): {
  code: string;
  message: string;
  destination?: string;
  hint?: string;
} {
  return {
    code: isMatricError(error) ? error.code : 'UNKNOWN',
    message: error instanceof Error ? error.message : String(error),
    ...(isDestinationError(error) && error.destination ? { destination: error.destination } : {}),
    ...(mcpHintOf(error) ? { hint: mcpHintOf(error) } : {}),
  };
}

/** The hint mcp shows: the code's own wording for a tool's input where the CLI's names a flag. */
function mcpHintOf(error: unknown): string | undefined {
  return (isMatricError(error) && ERROR_CODES[error.code]?.mcpHint) || hintOf(error);
}
