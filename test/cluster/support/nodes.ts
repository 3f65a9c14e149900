// The parent's handle on cluster nodes in child processes (fork through tsx).
import { fileURLToPath } from 'node:url';
import { IpcNode } from './ipc-node.js';

const NODE = fileURLToPath(new URL('./cluster-node.ts', import.meta.url));

export interface NodeEvent {
  event: string;
  node?: string;
  reason?: string;
}

export class NodeProcess extends IpcNode<NodeEvent> {
  constructor(config: { name: string; dataDir: string; secret: string; seeds: string[]; heartbeatIntervalMs?: number }) {
    super(NODE, config);
  }
}
