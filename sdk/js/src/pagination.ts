import type { Core, RequestSpec } from "./core.js";

export interface Pagination {
  page?: number;
  limit?: number;
  total?: number;
  totalPages?: number;
  hasMore?: boolean;
  nextCursor?: string | null;
}

/** Paging parameters that every list method takes. */
export interface ListQuery {
  /** Page size, 1..100 (1..1000 for events). */
  limit?: number;
  /** The `nextCursor` of an earlier page, to continue from there. */
  cursor?: string;
}

export interface Page<T> {
  data: T[];
  pagination?: Pagination;
}

/**
 * Every item of a list, fetched page by page as iteration reaches it
 * (`for await (const item of client.conversations.list())`), following
 * `pagination.nextCursor`. `firstPage()` returns one page with its pagination.
 */
export class Paginator<T> implements AsyncIterable<T> {
  constructor(
    private readonly core: Core,
    private readonly spec: RequestSpec,
  ) {}

  private pageSpec(cursor: string | null): RequestSpec {
    if (cursor === null) return this.spec;
    // The cursor replaces page numbering; other filters stay.
    const { page: _page, ...query } = this.spec.query ?? {};
    return { ...this.spec, query: { ...query, cursor } };
  }

  firstPage(): Promise<Page<T>> {
    return this.core.request<Page<T>>(this.spec);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    let cursor: string | null = null;
    for (;;) {
      const page: Page<T> = await this.core.request<Page<T>>(this.pageSpec(cursor));
      yield* page.data ?? [];
      const pagination: Pagination = page.pagination ?? {};
      if (!pagination.hasMore || !pagination.nextCursor) return;
      cursor = pagination.nextCursor;
    }
  }

  /** Collect every item into an array; prefer iteration for long lists. */
  async toArray(): Promise<T[]> {
    const items: T[] = [];
    for await (const item of this) items.push(item);
    return items;
  }
}
