/**
 * The admin API's error shape, `{error: {code, message}}` (issue 3), as an
 * exception that knows how to render itself (Hono's HTTPException idea).
 */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    public readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 500 | 502 | 503,
    public readonly code: string,
    message: string,
  ) {
    super(message);
  }

  toResponse(): Response {
    return Response.json({ error: { code: this.code, message: this.message } }, { status: this.status });
  }
}
