// The A2A tasks an exposed agent answered, for `GetTask` / `ListTasks`: at most
// `maxTasks`, the least recently saved forgotten first (the SDK's in-memory
// store keeps every task forever). Copies in and out, like the SDK's own.

import type { ListTasksRequest, ListTasksResponse, Task } from '@a2a-js/sdk';
import type { ServerCallContext, TaskStore } from '@a2a-js/sdk/server';

export class BoundedTaskStore implements TaskStore {
  private readonly tasks = new Map<string, Task>();

  constructor(private readonly maxTasks: number) {}

  async load(taskId: string, _context: ServerCallContext): Promise<Task | undefined> {
    const t = this.tasks.get(taskId);
    return t ? structuredClone(t) : undefined;
  }

  async save(task: Task, _context: ServerCallContext): Promise<void> {
    this.tasks.delete(task.id);
    this.tasks.set(task.id, structuredClone(task));
    while (this.tasks.size > this.maxTasks) this.tasks.delete(this.tasks.keys().next().value!);
  }

  /** Newest first, filtered by context and state; one page (no page tokens). */
  async list(params: ListTasksRequest, _context: ServerCallContext): Promise<ListTasksResponse> {
    const pageSize = Math.min(Math.max(params.pageSize ?? 50, 1), 100);
    const all = [...this.tasks.values()]
      .reverse()
      .filter((t) => (!params.contextId || t.contextId === params.contextId) && (!params.status || t.status?.state === params.status));
    const tasks = all.slice(0, pageSize).map((t) => {
      const copy = structuredClone(t);
      if (!params.includeArtifacts) copy.artifacts = [];
      return copy;
    });
    return { tasks, nextPageToken: '', pageSize, totalSize: all.length };
  }

  get size(): number {
    return this.tasks.size;
  }
}
