/**
 * What the hub refuses to build: a topology whose ids collide, or (checked where each part is built)
 * whose entries, tables or queue settings cannot work.
 */
import type { Topology } from '../topology.ts';

/** The topology refers to something that does not exist or cannot work. */
export class TopologyError extends Error {
  override readonly name = 'TopologyError';
}

/** Function ids (connector and consumer ids) share one namespace: `functions` and construct paths. */
export function assertUniqueIds(topology: Topology): void {
  const seen = new Set<string>();
  for (const id of [
    ...topology.ingest.map((route) => route.connector.id),
    ...topology.consumers.map((c) => c.id),
    ...topology.api.map((api) => api.id),
  ]) {
    if (seen.has(id)) {
      throw new TopologyError(
        `Function id '${id}' is used twice (connector, consumer and API function ids must be unique).`,
      );
    }
    seen.add(id);
  }
  const tableIds = new Set<string>();
  for (const table of topology.tables) {
    if (tableIds.has(table.id)) {
      throw new TopologyError(`Table id '${table.id}' is declared twice.`);
    }
    tableIds.add(table.id);
  }
}
