/**
 * The HTTP API's routes, matched as API Gateway matches route keys: literal segments and `{name}` path
 * parameters (decoded), the most specific route first (`/a/b` before `/a/{x}`), and a known path with
 * another method told apart from an unknown path (405 rather than 404).
 */
import type { LocalFunction } from '../lambda/local-function.ts';

/** A route (webhook or API) bound to its function. */
export interface RouteBinding {
  /** Webhook routes are also served on the webhook listener; API routes only on the loopback one. */
  readonly kind: 'webhook' | 'api';
  readonly method: string;
  /** API Gateway route path: literal segments and `{name}` parameters, e.g. `/profiles/{profileId}`. */
  readonly path: string;
  /** The connector (webhook routes) or API function id it serves. */
  readonly target: string;
  readonly function: LocalFunction;
}

interface CompiledRoute {
  readonly binding: RouteBinding;
  readonly pattern: RegExp;
  readonly parameters: readonly string[];
  /** Literal segments count more: API Gateway prefers `/a/b` over `/a/{x}`. */
  readonly specificity: number;
}

/** What a path and method match: a route with its parameters, or the methods the path has. */
export type RouteMatch =
  | { readonly binding: RouteBinding; readonly pathParameters: Readonly<Record<string, string>> }
  | { readonly allowed: string };

function compileRoute(binding: RouteBinding): CompiledRoute {
  const parameters: string[] = [];
  let specificity = 0;
  const source = binding.path
    .split('/')
    .map((segment) => {
      const parameter = /^\{([A-Za-z0-9_]+)\}$/.exec(segment);
      if (parameter?.[1]) {
        parameters.push(parameter[1]);
        return '([^/]+)';
      }
      specificity++;
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return { binding, pattern: new RegExp(`^${source}$`), parameters, specificity };
}

function decodePathParameter(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** Routes compiled once. */
export class RouteTable {
  readonly #routes: readonly CompiledRoute[];

  constructor(bindings: readonly RouteBinding[]) {
    this.#routes = bindings.map(compileRoute).sort((a, b) => b.specificity - a.specificity);
  }

  /** The route for `rawPath` and `method`; `allowed` lists the methods when only those differ; undefined for an unknown path. */
  match(rawPath: string, method: string | undefined): RouteMatch | undefined {
    const matching = this.#routes
      .map((route) => ({ route, match: route.pattern.exec(rawPath) }))
      .filter((candidate) => candidate.match !== null);
    if (matching.length === 0) return undefined;
    const chosen = matching.find((candidate) => candidate.route.binding.method === method);
    if (!chosen?.match) {
      return {
        allowed: [...new Set(matching.map((candidate) => candidate.route.binding.method))].join(', '),
      };
    }
    const pathParameters: Record<string, string> = {};
    chosen.route.parameters.forEach((name, index) => {
      pathParameters[name] = decodePathParameter(chosen.match?.[index + 1] ?? '');
    });
    return { binding: chosen.route.binding, pathParameters };
  }
}
