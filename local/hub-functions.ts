/**
 * The topology's functions as the hub runs them: one {@link LocalFunction} per ingest route, per API
 * function (shared by its routes) and per consumer, with Lambda's defaults where the topology says
 * nothing, and the HTTP routes that invoke them.
 */
import { DEFAULTS, type FunctionDefinition, type Topology } from '../lib/topology.ts';
import type { RouteBinding } from './apigateway/routes.ts';
import { LocalFunction, type LocalFunctionEnvironment } from './lambda/local-function.ts';

/** A route of the hub's HTTP API as `GET /health` lists it: a webhook (to a connector) or an API route. */
export interface HubRoute {
  readonly kind: 'webhook' | 'api';
  readonly method: string;
  readonly path: string;
  readonly target: string;
}

/** The function `definition` declares, named `name` (what Lambda reports as `functionName`). */
export function localFunction(
  name: string,
  definition: FunctionDefinition,
  environment: LocalFunctionEnvironment,
): LocalFunction {
  return new LocalFunction(
    {
      name,
      entry: definition.entry,
      timeoutSeconds: definition.timeoutSeconds ?? DEFAULTS.timeoutSeconds,
      memoryMiB: definition.memoryMiB ?? DEFAULTS.memoryMiB,
    },
    environment,
  );
}

/**
 * The HTTP routes the topology declares, each bound to the function it invokes: a connector's
 * ingest function (`<connector id>-ingest`) per webhook route, one function per API shared by its routes.
 */
export function routeBindings(topology: Topology, environment: LocalFunctionEnvironment): RouteBinding[] {
  const routes: RouteBinding[] = topology.ingest.map((route) => ({
    kind: 'webhook',
    method: route.method,
    path: route.path,
    target: route.connector.id,
    function: localFunction(`${route.connector.id}-ingest`, route, environment),
  }));
  for (const api of topology.api) {
    const apiFunction = localFunction(api.id, api, environment);
    routes.push(
      ...api.routes.map((route) => ({
        kind: 'api' as const,
        ...route,
        target: api.id,
        function: apiFunction,
      })),
    );
  }
  return routes;
}

/** The same routes without their functions, as `GET /health` describes them. */
export function hubRoutes(topology: Topology): HubRoute[] {
  return [
    ...topology.ingest.map((route) => ({
      kind: 'webhook' as const,
      method: route.method,
      path: route.path,
      target: route.connector.id,
    })),
    ...topology.api.flatMap((api) =>
      api.routes.map((route) => ({ kind: 'api' as const, ...route, target: api.id })),
    ),
  ];
}
