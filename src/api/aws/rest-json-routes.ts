import { httpBinding } from './rest-json-model.ts';
import { operationNames, type ServiceModel } from './service-model.ts';

/**
 * Finds the operation a REST request is for from its method, path and query,
 * as the model's `http.requestUri`s declare them:
 *
 * - `{Name}` matches one non-empty path segment, `{Name+}` one or more;
 * - a trailing slash is optional both ways (ListFunctions is declared at
 *   `/2015-03-31/functions/`, and clients send it with or without);
 * - a fixed query in the URI (`...?List=ALL`) must be in the request; of two
 *   routes on the same path, the one whose fixed query matches wins, then the
 *   one with more literal segments.
 *
 * Label values come back as sent, still percent-encoded: decoding them is the
 * input reader's, which can answer a malformed one in the service's terms.
 */

type Segment = { literal: string } | { label: string; greedy: boolean };

interface Route {
  operationName: string;
  method: string;
  segments: Segment[];
  /** Query parameters the URI fixes; `undefined` means present with any value. */
  fixedQuery: [string, string | undefined][];
  literals: number;
}

export interface RouteMatch {
  operationName: string;
  /** By label name (the `{Name}` in the URI), the raw segment(s) of the request path. */
  labels: Record<string, string>;
}

export class RestRouter {
  private readonly routes: Route[];

  constructor(model: ServiceModel) {
    this.routes = operationNames(model)
      .map((operationName) => compile(operationName, httpBinding(model, operationName)))
      .sort((a, b) => b.fixedQuery.length - a.fixedQuery.length || b.literals - a.literals);
  }

  /**
   * The first literal segment of every route (`2015-03-31`): the paths this
   * service owns, where a request that matches no route is the service's
   * unknown operation rather than someone else's.
   */
  prefixes(): string[] {
    const prefixes = new Set<string>();
    for (const route of this.routes) {
      const first = route.segments[0];
      if (!first || !('literal' in first)) throw new Error(`${route.operationName}: a requestUri must start with a literal segment`);
      prefixes.add(first.literal);
    }
    return [...prefixes].sort();
  }

  /** `pathname` as sent (percent-encoded); `query` decoded. */
  match(method: string, pathname: string, query: URLSearchParams): RouteMatch | undefined {
    const parts = splitPath(pathname);
    for (const route of this.routes) {
      if (route.method !== method) continue;
      if (!route.fixedQuery.every(([name, value]) => (value === undefined ? query.has(name) : query.getAll(name).includes(value)))) continue;
      const labels = matchSegments(route.segments, parts);
      if (labels) return { operationName: route.operationName, labels };
    }
    return undefined;
  }
}

function compile(operationName: string, http: { method: string; requestUri: string }): Route {
  const questionMark = http.requestUri.indexOf('?');
  const path = questionMark === -1 ? http.requestUri : http.requestUri.slice(0, questionMark);
  const fixedQuery: [string, string | undefined][] = [];
  if (questionMark !== -1) {
    for (const part of http.requestUri.slice(questionMark + 1).split('&')) {
      if (part === '') continue;
      const equals = part.indexOf('=');
      fixedQuery.push(equals === -1 ? [decodeURIComponent(part), undefined] : [decodeURIComponent(part.slice(0, equals)), decodeURIComponent(part.slice(equals + 1))]);
    }
  }
  const segments = splitPath(path).map((segment): Segment => {
    const label = /^\{([^{}+]+)(\+)?\}$/.exec(segment);
    if (label) return { label: label[1]!, greedy: label[2] === '+' };
    if (segment.includes('{') || segment.includes('}')) throw new Error(`${operationName}: a label must be a whole path segment (${http.requestUri})`);
    return { literal: segment };
  });
  if (segments.filter((segment) => 'greedy' in segment && segment.greedy).length > 1) {
    throw new Error(`${operationName}: a requestUri may have one greedy label (${http.requestUri})`);
  }
  return { operationName, method: http.method.toUpperCase(), segments, fixedQuery, literals: segments.filter((segment) => 'literal' in segment).length };
}

/** The segments of an absolute path, without the empty one a trailing slash leaves. */
function splitPath(path: string): string[] {
  const parts = path.split('/').slice(1);
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

function matchSegments(segments: readonly Segment[], parts: readonly string[]): Record<string, string> | undefined {
  const greedyAt = segments.findIndex((segment) => 'greedy' in segment && segment.greedy);
  if (greedyAt === -1 ? parts.length !== segments.length : parts.length < segments.length) return undefined;
  const labels: Record<string, string> = {};
  // Before a greedy label segments line up from the start; after it, from the end.
  const tail = greedyAt === -1 ? 0 : segments.length - greedyAt - 1;
  for (let index = 0; index < segments.length; index++) {
    const segment = segments[index]!;
    if (index === greedyAt) {
      const value = parts.slice(index, parts.length - tail).join('/');
      if (value === '') return undefined;
      labels[(segment as { label: string }).label] = value;
      continue;
    }
    const part = greedyAt !== -1 && index > greedyAt ? parts[parts.length - (segments.length - index)]! : parts[index]!;
    if ('literal' in segment) {
      if (part !== segment.literal) return undefined;
    } else {
      if (part === '') return undefined;
      labels[segment.label] = part;
    }
  }
  return labels;
}
