// A list the gateway hands out a page at a time (`{<key>: [...], nextCursor}`): the items so
// far, the cursor for "Load more", and the loading and error states.
//
//   const runs = usePagedList('runs', (q) => `${orgPath(org, 'workflows', id, 'runs')}?${q}`);
//   runs.load(null)          // the first page, replacing what is shown
//   runs.load(runs.cursor)   // the next page, appended
//
// `url(q)` gets URLSearchParams holding `limit` and, for a next page, `cursor`; a page adds its
// own filters to them. A next page leaves out items already shown (by id): the list can move
// between two pages (a session becomes active, a run starts), and the same item twice would be
// a lie. `setItems` lets a page put in what it learned elsewhere (a run it just started).
import { useState } from './html.js';
import { get } from './rest.js';

export function usePagedList(key, url, pageSize = 50) {
  const [items, setItems] = useState([]);
  const [cursor, setCursor] = useState(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState(null);

  const load = async (after) => {
    setLoading(true);
    setError(null);
    try {
      const q = new URLSearchParams({ limit: String(pageSize) });
      if (after) q.set('cursor', after);
      const data = await get(url(q));
      const page = data[key] || [];
      setItems((prev) => {
        if (!after) return page;
        const seen = new Set(prev.map((item) => item.id));
        return [...prev, ...page.filter((item) => !seen.has(item.id))];
      });
      setCursor(data.nextCursor || null);
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  };

  return { items, setItems, cursor, loading, error, load };
}
