// The node's side of the cluster: its incarnation (a restart counter kept in the
// node's data dir, so a restarted node joins as a new incarnation), and starting
// the ClusterNode once the node's own actors are back.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentDefinition } from '../actors/define.js';
import { ClusterNode, type ClusterOptions } from '../cluster/cluster.js';
import { ClusterCodes, ClusterError } from '../cluster/errors.js';
import { resolveMobility, type MobilityOptions } from '../cluster/migration/options.js';
import type { Kernel } from '../kernel/kernel.js';

const FILE = 'cluster-incarnation';

/** Read, raise and store this node's incarnation. */
export function nextIncarnation(root: string): number {
  const file = join(root, FILE);
  const last = existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : 0;
  const next = (Number.isSafeInteger(last) && last >= 0 ? last : 0) + 1;
  writeFileSync(file, `${next}\n`, { mode: 0o600 });
  return next;
}

export function checkClusterOptions(o: unknown): void {
  const bad = (field: string, why: string): never => {
    const path = field === '' ? 'cluster' : `cluster.${field}`;
    throw new ClusterError(ClusterCodes.invalidOptions, `${path} ${why}`, { field: path });
  };
  if (typeof o !== 'object' || o === null || Array.isArray(o)) bad('', 'must be an object { secret, listen?, seeds? }');
  const c = o as Record<string, unknown>;
  if (typeof c.secret !== 'string' || Buffer.byteLength(c.secret) < 16) bad('secret', 'must be a string of at least 16 bytes shared by every node');
  if (c.seeds !== undefined && (!Array.isArray(c.seeds) || c.seeds.some((s) => typeof s !== 'string' || !/^([\w.:-]+@)?wss?:\/\/[^\s]+$/.test(s)))) {
    bad('seeds', "must be an array of 'ws://host:port' or 'node@ws://host:port' addresses");
  }
  if (c.listen !== undefined) {
    const l = c.listen as { host?: unknown; port?: unknown };
    if (typeof l !== 'object' || l === null) bad('listen', 'must be { host?, port? }');
    if (l.port !== undefined && !(Number.isInteger(l.port) && (l.port as number) >= 0 && (l.port as number) < 65536)) bad('listen.port', 'must be a port number 0-65535');
    if (l.host !== undefined && typeof l.host !== 'string') bad('listen.host', 'must be a host name or address');
  }
  // Behind a proxy or NAT the address others dial differs from the listen address; membership gossips this one.
  if (c.advertise !== undefined && (typeof c.advertise !== 'string' || !/^wss?:\/\/[^\s/]+(\/\S*)?$/.test(c.advertise))) {
    bad('advertise', "must be the 'ws://host:port' address the other nodes dial to reach this one");
  }
  if (c.membership !== undefined && (typeof c.membership !== 'object' || c.membership === null || Array.isArray(c.membership))) bad('membership', 'must be an object of failure-detection timings');
  // Placement, replicas and migration timings: refused here, before anything starts.
  resolveMobility(c as MobilityOptions);
}

export function startCluster(kernel: Kernel, root: string, options: ClusterOptions, definition: (name: string, version?: string) => AgentDefinition | undefined): Promise<ClusterNode> {
  return ClusterNode.start({ kernel, incarnation: nextIncarnation(root), definition }, options);
}
