/** One request as the embedded fake sees it. */
export interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
}

export interface UpstreamResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
}

/** Answers requests in embedded mode: a function of the request, sync or async. */
export type FakeUpstream = (request: FakeRequest) => UpstreamResponse | Promise<UpstreamResponse>;

/** The default fake: healthy, and 404 for everything else, so tests give their own routes. */
export const notFoundFake =
  (healthPath: string): FakeUpstream =>
  ({ path }) =>
    path === healthPath ? { status: 200, body: { status: 'ok' } } : { status: 404, body: { error: `no fake route for ${path}` } };
