// A tiny MCP server for examples/services-tour.ts: a CRM's customer notes,
// served over stdio with the MCP SDK. The tour mounts it into a node, so its
// `customer_notes` tool becomes the governed tool `crm.customer_notes`.
// Run by the tour as a child process: `node --import tsx examples/support/mcp-notes-server.ts`.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const NOTES: Record<string, string[]> = {
  'ada@example.com': ['Prefers email over phone.', 'Asked about refunds for order A-1001 on Monday.'],
  'linus@example.com': ['Enterprise plan; escalate billing questions to the account manager.'],
};

const server = new McpServer({ name: 'crm-notes', version: '1.0.0' });
server.registerTool(
  'customer_notes',
  {
    description: "The support team's notes about a customer, newest last.",
    inputSchema: { customer: z.string().min(3) },
    outputSchema: { customer: z.string(), notes: z.array(z.string()) },
    annotations: { readOnlyHint: true },
  },
  ({ customer }) => {
    const notes = NOTES[customer] ?? [];
    return { content: [{ type: 'text' as const, text: notes.join('\n') || 'no notes' }], structuredContent: { customer, notes } };
  },
);
await server.connect(new StdioServerTransport());
