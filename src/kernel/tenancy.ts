// Which tenant a supervision path runs under: set by `spawn` for a top-level
// actor or tree, inherited down the tree, forgotten when the subtree stops
// (so a respawned tree never runs under a stale tenant).

export class TenantPaths {
  private readonly byPath = new Map<string, string | undefined>();

  set(path: string, tenant: string | undefined): void {
    this.byPath.set(path, tenant);
  }

  /** The tenant of the nearest ancestor (or the path itself) that has one set. */
  of(path: string): string | undefined {
    for (let p = path; p.length > 0; p = p.slice(0, p.lastIndexOf('/'))) {
      if (this.byPath.has(p)) return this.byPath.get(p);
    }
    return undefined;
  }

  /** Forget a path and everything under it. */
  forget(path: string): void {
    this.byPath.delete(path);
    for (const p of this.byPath.keys()) if (p.startsWith(`${path}/`)) this.byPath.delete(p);
  }

  get size(): number {
    return this.byPath.size;
  }
}
