import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/**
 * The URL namespace of the jupyterlab-hpc server extension.
 */
const API_NAMESPACE = 'hpc';

/**
 * A failed call to the server extension.
 *
 * `status` is the HTTP status (503: Slurm unreachable, 504: Slurm timed out),
 * or 0 when the Jupyter server itself could not be reached.
 */
export class HpcRequestError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
    this.name = 'HpcRequestError';
  }
}

/**
 * The answer to a conditional GET: the body and its ETag, or `unchanged` when
 * the server answered 304 to the ETag sent.
 */
export type Conditional<T> =
  { unchanged: false; body: T; etag: string | null } | { unchanged: true };

/**
 * Options of `requestAPI`.
 */
export interface IRequestOptions {
  /** Fetch options (method, body...). */
  init?: RequestInit;
  /** The ETag of the body the caller already has, sent as If-None-Match. */
  etag?: string | null;
  /** The connection to use; the page's own by default. */
  serverSettings?: ServerConnection.ISettings;
}

/**
 * Call the server extension.
 *
 * This is the only function that knows how to reach the server: every failure
 * becomes an `HpcRequestError` carrying the server's own message, so callers
 * deal with one error type. A 304 (the server's answer to an unchanged ETag)
 * comes back as `unchanged`, never as an error.
 *
 * @param endPoint Path below `{base_url}hpc/`, query string included.
 */
export async function requestAPI<T>(
  endPoint: string,
  options: IRequestOptions = {}
): Promise<Conditional<T>> {
  const serverSettings =
    options.serverSettings ?? ServerConnection.makeSettings();
  const url = URLExt.join(serverSettings.baseUrl, API_NAMESPACE, endPoint);
  const init = { ...options.init };
  if (options.etag) {
    const headers = new Headers(init.headers);
    headers.set('If-None-Match', options.etag);
    init.headers = headers;
  }

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, serverSettings);
  } catch (error) {
    throw new HpcRequestError(0, (error as Error).message);
  }
  if (response.status === 304) {
    return { unchanged: true };
  }

  const text = await response.text();
  const body = parseJSON(text);

  if (!response.ok) {
    throw new HpcRequestError(
      response.status,
      errorMessage(body) ?? (response.statusText || `HTTP ${response.status}`)
    );
  }
  if (text && body === undefined) {
    throw new HpcRequestError(
      response.status,
      `The server sent an answer that is not JSON: ${text.slice(0, 200)}`
    );
  }
  return {
    unchanged: false,
    body: body as T,
    etag: response.headers.get('ETag')
  };
}

function parseJSON(text: string): unknown {
  if (!text) {
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The `message` of jupyter_server's error shape `{"message": ..., "reason": ...}`.
 */
function errorMessage(body: unknown): string | undefined {
  if (typeof body === 'object' && body !== null && 'message' in body) {
    const { message } = body as { message: unknown };
    if (typeof message === 'string' && message) {
      return message;
    }
  }
  return undefined;
}
