// newsgen search page: the header's search box, filters, a sort and results over the site's
// Pagefind shards, drawn as the theme's teasers.
// Headlines, excerpts and filter values come from the index, which is built from articles that
// anyone contributing to the site may have written: every one of them goes into the page as
// text (createElement, textContent, text nodes), never as markup.
(() => {
  "use strict";
  const PAGE_SIZE = 10;
  const box = document.getElementById("search");
  const form = document.querySelector("form.site-search");
  if (!box || !form) return;
  const input = form.querySelector("input[name=q]");
  const text = box.dataset;
  const siteLang = document.documentElement.lang || "en";
  const UNDATED = "–"; // the year filter's value of undated articles (newsgen/search.py)

  // --- the engine ---------------------------------------------------------------------------
  // One Pagefind per language, each imported from its own shard's pagefind.js: a separate
  // module has its own WebAssembly, so each language is searched with its own stemmer
  // (mergeIndex would search every shard with the first one's). The other shards of a
  // language are merged into it.
  // What makes the first result slow is the chain of requests before it (page, script,
  // shards.json, pagefind.js, then each shard's entry, then its metadata, the merged shards
  // only once the first one's WebAssembly is in): shards.json holds every shard's entry and
  // names the files an engine loads before its first search, so they are all asked for at
  // once, as preloads that Pagefind's own requests then take. Pagefind runs in the page
  // (noWorker): its worker was one more script to load per language, and one more step in
  // the chain. The filters' values, as many files again as there are shards, load only when
  // a reader opens the filters or the URL chooses one.

  // Asked for once, before Pagefind asks, and handed to it when it does (see fetchOnce). Not
  // as <link rel="preload">: the links cost 20–25 ms of the main thread a load at 10k
  // articles (Chromium's CPU profile). A failure is Pagefind's to report, when it asks.
  const asked = new Set(); // URLs asked for ahead
  const ahead = new Map(); // URL -> its response, until Pagefind asks for it
  const preload = (href) => {
    const url = new URL(href, location.href).href;
    if (asked.has(url)) return;
    asked.add(url);
    if (url.split("?")[0].endsWith(".pagefind")) {
      fetchOnce(url).catch(() => {}); // kept as bytes: a language's Pagefinds all ask for it
    } else {
      const response = fetchAsItWas(url);
      response.catch(() => {});
      ahead.set(url, response);
    }
  };

  // Pagefind's requests, seen before they go: an entry that shards.json holds is answered
  // from it (a request less a shard; at 100k articles, 44). And Pagefind's files are gzip,
  // which Pagefind inflates in JavaScript: at 10k articles that was the first search's
  // largest cost (over half a second of a loaded machine's time, more than the wasm's
  // searches). The browser's own DecompressionStream does it in native code; given bytes
  // that are already inflated (they begin "pagefind_dcd"), Pagefind uses them as they are.
  // Only the bundle's files go this way; all else is fetched as it was.
  const entries = new Map(); // URL of a shard's entry -> its text
  const answerPagefind = () => {
    fetchAsItWas = window.fetch.bind(window);
    const bundle = new URL(text.bundle, location.href).href;
    const gzipped = /\.(pf_meta|pf_index|pf_filter|pf_fragment|pagefind)$/;
    const inflate = typeof DecompressionStream === "function";
    window.fetch = async (input, init) => {
      const url = new URL(typeof input === "string" ? input : input.url, location.href);
      if (entries.has(url.href)) {
        return new Response(entries.get(url.href), {headers: {"Content-Type": "application/json"}});
      }
      // The routing's files are named by their key: asked for with the digest of the
      // language's routing, so a new routing is a new address.
      for (const [route, tag] of routeTags) {
        if (url.href.startsWith(route)) input = `${url.origin}${url.pathname}?ts=${tag}`;
      }
      // One address for a language's WebAssembly, whichever shard's (or routing's) Pagefind
      // asks for it: the same file, fetched once.
      const wasm = url.href.startsWith(bundle) && wasmOf.get(url.pathname.split("/").at(-1));
      if (wasm) input = wasm;
      const response = await fetchOnce(input, init);
      if (!inflate || !response.ok || !url.href.startsWith(bundle) || !gzipped.test(url.pathname)) {
        return response;
      }
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return new Response(bytes, response);
      // From a Response, not a Blob: at 10k articles, this function took 52 ms of the main
      // thread a load with a Blob, 14 ms with a Response (Chromium's CPU profile).
      const inflated = new Response(bytes).body.pipeThrough(new DecompressionStream("gzip"));
      return new Response(await new Response(inflated).arrayBuffer(), response);
    };
  };

  // Each file fetched once: one fetched ahead (see preload) goes to the first request for it;
  // a language's WebAssembly is asked for by its routing's Pagefind and its shards', and the
  // browser may fetch it twice when the second asks before the first has it (72 kB more).
  const wasmBytes = new Map(); // URL -> its bytes
  const fetchOnce = async (input, init) => {
    const url = new URL(typeof input === "string" ? input : input.url, location.href);
    if (!url.pathname.endsWith(".pagefind")) {
      const response = ahead.get(url.href);
      ahead.delete(url.href);
      return response || fetchAsItWas(input, init);
    }
    if (!wasmBytes.has(url.href)) {
      wasmBytes.set(
        url.href,
        fetchAsItWas(input, init).then((response) => {
          if (!response.ok) throw new Error(`${url.href}: HTTP ${response.status}`);
          return response.arrayBuffer();
        }),
      );
    }
    return new Response(await wasmBytes.get(url.href));
  };
  let fetchAsItWas = null;

  const loadEngine = async () => {
    answerPagefind();
    const response = await fetch(text.bundle + "shards.json", {cache: "no-cache"});
    if (!response.ok) throw new Error(`${text.bundle}shards.json: HTTP ${response.status}`);
    const manifest = await response.json();
    const byLang = new Map();
    for (const shard of manifest.shards) {
      if (!byLang.has(shard.lang)) byLang.set(shard.lang, []);
      byLang.get(shard.lang).push(shard);
    }
    const routes = manifest.routes || {};
    // The scripts first: a browser opens only a few connections to a host at once.
    const modules = new Map([...byLang].map(([lang, [first]]) => [lang, import(folder(first) + "pagefind.js")]));
    // Pagefind asks for an entry with the shard's digest (metaCacheTag): a name that changes
    // exactly when the shard does, and one this page knows.
    for (const [lang, shards] of byLang) {
      const [first] = shards;
      if (first.wasm) {
        preload(folder(first) + first.wasm);
        wasmOf.set(first.wasm, new URL(folder(first) + first.wasm, location.href).href);
      }
      for (const shard of shards) {
        const entry = new URL(`${folder(shard)}pagefind-entry.json?ts=${shard.digest}`, location.href);
        if (shard.entry) entries.set(entry.href, JSON.stringify(shard.entry));
        // The same entry naming the metadata without sort orders, for searches by relevance.
        const lean = new URL(`${folder(shard)}pagefind-entry.json?ts=${shard.digest}-lean`, location.href);
        if (shard.entry && shard.lean) entries.set(lean.href, JSON.stringify(leanEntry(shard.entry, shard.lean)));
      }
      if (routes[lang]) routeTags.set(new URL(routeFolder(lang), location.href).href, routes[lang]);
    }
    // A routed language's keys come with the manifest (an empty list when the build could
    // not read them: the language is then searched whole, as one not routed).
    const routeKeys = manifest.route_keys || {};
    const languages = await Promise.all(
      [...byLang].map(async ([lang, shards]) => {
        const keys = routes[lang] && routeKeys[lang]?.length ? new Set(routeKeys[lang]) : null;
        if (keys) preloadRoutes(lang, keys);
        return {lang, shards, module: await modules.get(lang), keys, wrappers: new Map()};
      }),
    );
    const engine = {languages, filterNames: (manifest.shards.length && manifest.filters) || [], filtersLoaded: false, filters: null};
    engine.loadFilters = () => {
      engine.filters =
        engine.filters ||
        Promise.all(languages.map((language) => wrapperOf(engine, language, language.shards)))
          .then((all) => Promise.all(all.map(({pagefind}) => pagefind.filters())))
          .then((all) => {
            engine.filtersLoaded = true;
            return addCounts({}, all);
          });
      return engine.filters;
    };
    return engine;
  };

  const folder = (shard) => text.bundle + shard.name + "/";
  const routeFolder = (lang) => `${text.bundle}route/${lang}/`;
  const wasmOf = new Map(); // name of a language's WebAssembly -> its URL in its first shard
  const routeTags = new Map(); // URL of a language's routing -> digest of its files

  const leanEntry = (entry, meta) => {
    const [[lang, index]] = Object.entries(entry.languages);
    const hash = meta.slice("pagefind.".length, -".pf_meta".length);
    return {...entry, languages: {[lang]: {...index, hash}}};
  };

  // One Pagefind for these shards of a language (its first, the others merged into it, in
  // the manifest's order, as all of them were: results of equal score keep their order).
  // Kept for the next query that needs the same shards. Once the filters' values are
  // loaded, a new one loads them too: Pagefind counts only the values it has loaded. Unless
  // `sorted` (by date), it loads each shard's metadata without the sort orders, a fourth
  // smaller (the entry this page hands Pagefind names it, see loadEngine).
  const wrapperOf = (engine, language, shards, sorted = false) => {
    const lean = !sorted && shards.every((shard) => shard.lean);
    const key = shards.map((shard) => shard.name).join(" ") + (lean ? " lean" : "");
    if (!language.wrappers.has(key)) {
      const [first, ...others] = shards;
      for (const shard of shards) {
        const meta = lean ? shard.lean : shard.meta;
        if (meta) preload(folder(shard) + meta);
      }
      const lang = language.lang;
      const tag = (shard) => (lean ? `${shard.digest}-lean` : shard.digest);
      const options = {basePath: folder(first), baseUrl: text.base, excerptLength: 24, metaCacheTag: tag(first), noWorker: true};
      const wrapper = createIn(language, options).then(async (pagefind) => {
        await Promise.all(
          others.map((shard) => pagefind.mergeIndex(folder(shard), {language: lang, baseUrl: text.base, metaCacheTag: tag(shard)})),
        );
        return {pagefind, filters: null};
      });
      language.wrappers.set(key, wrapper);
    }
    return language.wrappers.get(key).then(async (wrapper) => {
      if (engine.filtersLoaded) {
        wrapper.filters = wrapper.filters || wrapper.pagefind.filters();
        await wrapper.filters;
      }
      return wrapper;
    });
  };

  // The Pagefinds of one module share its WebAssembly, which the first of them sets up: two
  // that set it up at once would each make one, and the first one's data would be read from
  // the second one's memory (no results). So a language's other Pagefinds are made once its
  // first is ready (an empty search returns as soon as it is, loading nothing); then they
  // take the one it made (wasm-bindgen's init returns it) and can be made all at once: a
  // date-sorted search makes one for each bucket (at 100k articles, 32 for English).
  const createIn = (language, options) => {
    if (language.ready) return language.ready.then(() => language.module.createInstance(options));
    const made = Promise.resolve(language.module.createInstance(options));
    language.ready = made.then((pagefind) => pagefind.search("")).catch(() => {});
    return made;
  };

  // --- routing: which shards can hold a word (newsgen/route.py) ----------------------------
  // A language's routing is a set of tiny Pagefind bundles whose "pages" are its shards, one
  // bundle for the words that begin with the same one or two letters. Searched with the
  // language's own Pagefind, a word is stemmed as Pagefind stems it for the shards, so the
  // shards a route names are those that hold it. A result needs every word in its own shard,
  // so a language loads the shards that hold them all.

  // A word as Pagefind's search reads it before stemming: lower case, without punctuation
  // or diacritics (pagefind.js, search()).
  const pagefindForm = (word) =>
    [...word]
      .filter((c) => !/^\p{Pd}|\p{Pe}|\p{Pf}|\p{Pi}|\p{Po}|\p{Ps}$/u.test(c))
      .map((c) => c.toLocaleLowerCase())
      .join("")
      .normalize("NFD")
      .replace(/\p{M}/gu, "");

  const routeOf = async (language, terms) => {
    if (!language.keys) return language.shards;
    let names = null;
    for (const term of terms) {
      const keys = keysOf(term);
      if (!keys) return language.shards;
      const present = keys.filter((key) => language.keys.has(key));
      const found = new Set();
      if (present.length) {
        const router = await routerOf(language, present);
        // Quoted: the shards that hold the word's stem itself (a plain word is one stem).
        for (const result of (await router.search(`"${term}"`)).results) found.add(result.id);
      }
      names = names ? new Set([...names].filter((name) => found.has(name))) : found;
    }
    return language.shards.filter((shard) => names.has(shard.name));
  };

  // The routing bundles that can hold a word's stem: its first letter and first two (the
  // word's stem begins as the word does, newsgen/route.py); null for a word not routed.
  const keysOf = (term) => {
    const word = pagefindForm(term);
    // Only a plain word is routed: Pagefind splits anything else in ways not copied here.
    if (!/^[\p{L}\p{N}]+$/u.test(word)) return null;
    const keys = new Set();
    for (const form of new Set([word, word.replace(/ß/g, "ss")])) {
      const letters = [...form];
      keys.add(letters.slice(0, 1).join(""));
      keys.add(letters.slice(0, 2).join(""));
    }
    return [...keys];
  };

  // The routing files of the query in the address, asked for as soon as the language's keys
  // are known, before Pagefind asks for them one after another.
  const preloadRoutes = (lang, keys) => {
    const tag = routeTags.get(new URL(routeFolder(lang), location.href).href);
    for (const term of termsOf(stateFrom(location.search).q)) {
      for (const key of keysOf(term) || []) {
        if (!keys.has(key)) continue;
        const name = `${lang}_${hexOf(key)}`;
        preload(`${routeFolder(lang)}${hexOf(key)}/pagefind.${name}.pf_meta?ts=${tag}`);
        preload(`${routeFolder(lang)}${hexOf(key)}/index/${name}.pf_index?ts=${tag}`);
      }
    }
  };

  const hexOf = (key) => [...new TextEncoder().encode(key)].map((b) => b.toString(16).padStart(2, "0")).join("");

  // One Pagefind per language for its routing, the bundles of the keys asked for merged in.
  const routerOf = (language, keys) => {
    const [first] = language.shards;
    const base = (key) => routeFolder(language.lang) + hexOf(key) + "/";
    const tag = routeTags.get(new URL(routeFolder(language.lang), location.href).href);
    const entryOf = (key) => {
      const url = new URL(`${base(key)}pagefind-entry.json?ts=${tag}`, location.href).href;
      const index = {hash: `${language.lang}_${hexOf(key)}`, wasm: first.wasm ? first.wasm.slice(5, -9) : "unknown", page_count: language.shards.length};
      entries.set(url, JSON.stringify({version: first.entry?.version, languages: {[language.lang]: index}}));
    };
    if (!language.router) {
      entryOf(keys[0]);
      const made = createIn(language, {basePath: base(keys[0]), metaCacheTag: tag, noWorker: true});
      language.router = made.then((pagefind) => ({pagefind, keys: new Set([keys[0]])}));
    }
    language.router = language.router.then(async (router) => {
      const more = keys.filter((key) => !router.keys.has(key));
      for (const key of more) {
        router.keys.add(key);
        entryOf(key);
      }
      await Promise.all(more.map((key) => router.pagefind.mergeIndex(base(key), {language: language.lang, metaCacheTag: tag})));
      return router;
    });
    return language.router.then((router) => router.pagefind);
  };

  const addCounts = (into, many) => {
    for (const filters of many) {
      for (const [name, values] of Object.entries(filters || {})) {
        into[name] = into[name] || {};
        for (const [value, count] of Object.entries(values)) {
          into[name][value] = (into[name][value] || 0) + count;
        }
      }
    }
    return into;
  };

  // The words of a query as Pagefind reads them: lower case, punctuation around them dropped.
  const termsOf = (query) =>
    query
      .split(/\s+/)
      .map((word) => word.replace(/^[\p{P}\p{S}]+|[\p{P}\p{S}]+$/gu, ""))
      .filter(Boolean);

  // Every word of the query must be in a result, as written or as a form its language's
  // stemmer gives the same stem: Pagefind's quoted search of one word matches exactly that,
  // where its ordinary search also takes any longer word (the last word as a prefix) and,
  // for a word in no article, the longest prefix that is in one ("zzqx" finding "z").
  // So a language's results are those of the ordinary search (its ranking, its excerpts)
  // that the quoted search of every word finds too.
  const searchLanguage = async ({pagefind}, terms, query, filters, sort) => {
    const sorting = {filters, sort: sort === "date" ? {date: "desc"} : {}};
    const [ranked, relevant, ...exact] = await Promise.all([
      pagefind.search(query, sorting),
      // Sorted by date, the results of one date (or undated) come by relevance too (see
      // cursorOf): Pagefind's scores, which a sorted search does not give.
      sort === "date" ? pagefind.search(query, {filters}) : null,
      ...terms.map((term) => pagefind.search(`"${term}"`, {filters})),
    ]);
    const missing = terms.filter((_, i) => !exact[i].results.length);
    if (missing.length) return {results: [], counts: {}, missing};
    if (relevant) {
      const scores = new Map(relevant.results.map((r) => [r.id, r.score]));
      for (const result of ranked.results) result.relevance = scores.get(result.id) || 0;
    }
    let allowed = new Set(exact[0].results.map((r) => r.id));
    for (const found of exact.slice(1)) {
      const ids = new Set(found.results.map((r) => r.id));
      allowed = new Set([...allowed].filter((id) => ids.has(id)));
    }
    const results = ranked.results.filter((r) => allowed.has(r.id));
    const counts = terms.length === 1 ? exact[0].filters : await countsOf(pagefind, terms[0], filters, exact[0].filters, allowed);
    return {results, counts, missing};
  };

  // Filter counts of a query of several words: for each value the first word's quoted search
  // finds, the results with that value that every word's search found.
  const countsOf = async (pagefind, term, filters, first, allowed) => {
    const counts = {};
    for (const [name, values] of Object.entries(first)) {
      counts[name] = {};
      for (const [value, n] of Object.entries(values)) {
        if (!n) continue;
        const found = await pagefind.search(`"${term}"`, {filters: {...filters, [name]: {any: [value]}}});
        counts[name][value] = found.results.filter((r) => allowed.has(r.id)).length;
      }
    }
    return counts;
  };

  // Pagefind counts only the filter values it has loaded: counts made before the filters
  // were are made again once they are (`complete`).
  const run = async (engine, state) => {
    const complete = engine.filtersLoaded;
    const terms = termsOf(state.q);
    const filters = {};
    for (const [name, values] of state.filters) if (values.size) filters[name] = {any: [...values]};
    if (!terms.length) {
      if (!Object.keys(filters).length) return null;
      const groups = engine.languages.flatMap((language) =>
        groupsOf(language.shards, "date").map((group) => [language, group]),
      );
      const found = await Promise.all(
        groups.map(async ([language, group]) => {
          const {pagefind} = await wrapperOf(engine, language, group, true);
          return pagefind.search(null, {filters, sort: {date: "desc"}});
        }),
      );
      return {
        lists: found.map((f) => f.results),
        counts: addCounts({}, found.map((f) => f.filters)),
        sort: "date", // no words to rank by: the newest first
        missing: [],
        complete,
      };
    }
    // The shards the routes name; where they give nothing at all, every shard, as before:
    // which word is in no article ("did you mean") is told by all of them.
    const nothing = {results: [], counts: {}, missing: []};
    const searchIn = async (language, shards) => {
      if (!shards.length) return [nothing];
      return Promise.all(
        groupsOf(shards, state.sort).map(async (group) =>
          searchLanguage(await wrapperOf(engine, language, group, state.sort === "date"), terms, state.q, filters, state.sort),
        ),
      );
    };
    let found = (
      await Promise.all(engine.languages.map(async (language) => searchIn(language, await routeOf(language, terms))))
    ).flat();
    if (found.every((f) => !f.results.length)) {
      found = (await Promise.all(engine.languages.map((language) => searchIn(language, language.shards)))).flat();
    }
    return {
      lists: found.map((f) => f.results),
      counts: addCounts({}, found.map((f) => f.counts)),
      sort: state.sort,
      // A word in none of the shards searched (each may lack some: by date, each is alone).
      missing: terms.filter((t) => found.every((f) => f.missing.includes(t))),
      complete,
    };
  };

  // The shards of a language searched by one Pagefind each: all of them by relevance; sorted
  // by date, each bucket by its own, and the lists merged by date (cursorOf), since Pagefind
  // merges a language's buckets by each result's rank within its own bucket, not by date
  // (the first result could be any bucket's newest).
  const groupsOf = (shards, sort) => (sort === "date" ? shards.map((shard) => [shard]) : [shards]);

  // Results in one list. By relevance: Pagefind's scores, each language's from its own index
  // (BM25 over its own words). By date: newest first, each language's list already in date
  // order, merged by the dates in their metadata as they are read.
  const cursorOf = (outcome) => {
    if (outcome.sort !== "date") {
      const all = outcome.lists.flat().sort((a, b) => b.score - a.score);
      let at = 0;
      return {total: all.length, next: async (n) => all.slice(at, (at += n)).map(dataOf)};
    }
    const lists = outcome.lists.map((list) => ({list: [...list], at: 0, undated: false}));
    // A list's head; once it is undated, so is the rest of the list (newest first puts them
    // last), which then comes by relevance (Pagefind's score in its bucket), not in the order
    // Pagefind keeps for pages of one date (their place in its index: by URL).
    const headOf = async (l) => {
      if (l.at >= l.list.length) return null;
      const head = await dataOf(l.list[l.at]);
      if (head.meta.date || l.undated) return head;
      l.undated = true;
      const rest = l.list.slice(l.at).sort((a, b) => (b.relevance || 0) - (a.relevance || 0));
      l.list.splice(l.at, rest.length, ...rest);
      return dataOf(l.list[l.at]);
    };
    // Newest first; of heads of one date (undated, or from different buckets), the more
    // relevant first.
    const before = (a, la, b, lb) => {
      const [x, y] = [a.meta.date || "", b.meta.date || ""];
      return x > y || (x === y && (la.list[la.at].relevance || 0) > (lb.list[lb.at].relevance || 0));
    };
    return {
      total: outcome.lists.reduce((sum, list) => sum + list.length, 0),
      next: async (n) => {
        const out = [];
        while (out.length < n) {
          const heads = await Promise.all(lists.map(headOf));
          let best = -1;
          heads.forEach((head, i) => {
            if (head && (best < 0 || before(head, lists[i], heads[best], lists[best]))) best = i;
          });
          if (best < 0) break;
          out.push(heads[best]);
          lists[best].at += 1;
        }
        return out.map((data) => Promise.resolve(data));
      },
    };
  };

  const loaded = new WeakMap();
  const dataOf = (result) => {
    if (!loaded.has(result)) loaded.set(result, result.data());
    return loaded.get(result);
  };

  // "Did you mean": words of the index close to a word that is in no article. Pagefind's
  // ordinary search takes a word as the beginning of longer ones: the word's beginnings,
  // longest first, find the indexed words that share most of its spelling; only those within
  // an edit or two of it, or that it begins (a word being typed), are offered.
  const suggestionsFor = async (engine, term) => {
    const want = fold(term);
    const seen = new Set();
    for (let length = want.length; length >= Math.max(3, want.length - 6) && !seen.size; length--) {
      await nearWords(engine, term.slice(0, length), want, seen);
    }
    // Nearest first; words as near in the order of their letters, not in the order the
    // languages' searches happened to answer (which varies from one load to the next).
    const order = (a, b) => distance(fold(a), want) - distance(fold(b), want) || (a < b ? -1 : a > b ? 1 : 0);
    return [...seen].sort(order).slice(0, 3);
  };

  const nearWords = async (engine, prefix, want, seen) =>
    Promise.all(
      engine.languages.map(async (language) => {
        const {pagefind} = await wrapperOf(engine, language, language.shards);
        const found = await pagefind.search(prefix);
        for (const result of found.results.slice(0, 8)) {
          const data = await dataOf(result);
          const words = data.content.split(/\s+/);
          // The words found in the body, and those of the headline and place (searched as
          // metadata) that begin as the prefix does.
          const start = fold(prefix);
          const candidates = [
            ...data.locations.map((at) => words[at] || ""),
            ...termsOf(`${data.meta?.title || ""} ${data.meta?.place || ""}`).filter((w) => fold(w).startsWith(start)),
          ];
          for (const candidate of candidates) {
            const word = candidate.replace(/^[\p{P}\p{S}]+|[\p{P}\p{S}]+$/gu, "");
            const folded = fold(word);
            if (!folded || folded === want) continue;
            const near = distance(folded, want) <= (want.length > 6 ? 2 : 1);
            if (near || (want.length >= 3 && folded.startsWith(want))) seen.add(word.toLocaleLowerCase());
          }
        }
      }),
    );

  const fold = (word) => word.normalize("NFD").replace(/\p{M}/gu, "").toLocaleLowerCase();

  // Edits (insert, delete, replace, swap two neighbours) from one word to the other.
  const distance = (a, b) => {
    const d = Array.from({length: a.length + 1}, (_, i) => [i, ...Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
      for (let j = 1; j <= b.length; j++) {
        const cost = a[i - 1] === b[j - 1] ? 0 : 1;
        d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length][b.length];
  };

  // --- drawing, with text only --------------------------------------------------------------

  const element = (tag, className, content) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  };

  // Pagefind 1.5 escapes `<` and `>` in an excerpt and nothing else (a `&` stays as it is),
  // then wraps the matched words in <mark>: so a literal "<mark>" can only be its own marker.
  // The pieces between markers are turned back into the characters written and set as text.
  // Not a full entity decoder, which would show an `&amp;` written in an article as `&`; the
  // one loss: text that itself holds `&lt;` shows as `<`.
  const unescapeExcerpt = (piece) => piece.replace(/&lt;|&gt;/g, (m) => (m === "&lt;" ? "<" : ">"));

  // Pagefind marks a word with the punctuation around it ("canadien.", "(Québec)"): the
  // highlight is the word alone, the punctuation stays beside it as plain text.
  const markedWord = (words) => {
    const [, before, word, after] = words.match(/^([\p{P}\p{S}]*)(.*?)([\p{P}\p{S}]*)$/su);
    if (!word) return [element("mark", "", words)];
    const parts = [element("mark", "", word)];
    if (before) parts.unshift(document.createTextNode(before));
    if (after) parts.push(document.createTextNode(after));
    return parts;
  };

  // The words of a headline marked as its excerpt marks them: those written as a query word
  // is, or as a word the excerpt marks (Pagefind marks every form of the query's stems that
  // it shows), case and accents aside. A form only the stemmer would tell (the page has
  // none) stays plain: a headline found by it shows no mark rather than a wrong one.
  const foundForms = (terms, excerpt) => {
    const forms = new Set(terms.map(fold));
    for (const {text, marked} of piecesOf(excerpt)) {
      // Split by WORDS, a text has its words at the odd places.
      if (marked) text.split(WORDS).forEach((word, i) => i % 2 && forms.add(fold(word)));
    }
    return forms;
  };
  const WORDS = /([\p{L}\p{M}\p{N}]+)/u;

  const headlineOf = (title, forms) =>
    String(title)
      .split(WORDS)
      .filter(Boolean)
      .map((piece) => (forms.has(fold(piece)) ? element("mark", "", piece) : document.createTextNode(piece)));

  // An excerpt's pieces in order, as text, each with whether Pagefind marked it.
  const piecesOf = (excerpt) => {
    const pieces = [];
    let marked = false;
    for (const piece of String(excerpt || "").split(/(<mark>|<\/mark>)/)) {
      if (piece === "<mark>" || piece === "</mark>") marked = piece === "<mark>";
      else if (piece) pieces.push({text: unescapeExcerpt(piece), marked});
    }
    return pieces;
  };

  // An excerpt cut from inside the text says so: "…" where it does not begin or end with it.
  const excerptOf = (excerpt, content) => {
    const paragraph = element("p", "summary search-excerpt");
    let plain = "";
    for (const {text: words, marked} of piecesOf(excerpt)) {
      plain += words;
      paragraph.append(...(marked ? markedWord(words) : [document.createTextNode(words)]));
    }
    const text = squeeze(String(content || ""));
    plain = squeeze(plain);
    if (text && plain) {
      if (!text.startsWith(plain.slice(0, 40))) paragraph.prepend("… ");
      if (!text.endsWith(plain.slice(-40))) paragraph.append(" …");
    }
    return paragraph;
  };

  const squeeze = (text) => text.replace(/\s+/g, " ").trim();

  // Only a link into this site: an index could hold any string where a URL should be.
  const sameSite = (url) => {
    try {
      return new URL(url, location.href).origin === location.origin;
    } catch {
      return false;
    }
  };

  const RTL = /^(ar|arc|ckb|dv|fa|ha|he|iw|khw|ks|ps|sd|ur|yi)(-|$)/i;
  const directionOf = (lang) => (RTL.test(lang) ? "rtl" : "ltr");
  const codeOf = (lang) => (/^[A-Za-z]{2,8}([-_][A-Za-z0-9]{1,8})*$/.test(lang) ? lang.replace(/_/g, "-") : "");

  // Made once each: a new DateTimeFormat and its first date took 0.27 ms in Node, a date
  // from one made before 0.001 ms.
  const formats = new Map(); // key -> Intl formatter
  const formatOf = (key, make) => {
    if (!formats.has(key)) formats.set(key, make());
    return formats.get(key);
  };

  const languageName = (code) => {
    try {
      return formatOf("", () => new Intl.DisplayNames([siteLang], {type: "language"})).of(code) || code;
    } catch {
      return code;
    }
  };

  const dateOf = (iso, lang) => {
    const [y, m, d] = iso.split("-").map(Number);
    try {
      const format = formatOf(lang || siteLang, () => new Intl.DateTimeFormat(lang || siteLang, {dateStyle: "long", timeZone: "UTC"}));
      return format.format(new Date(Date.UTC(y, m - 1, d)));
    } catch {
      return iso;
    }
  };

  // A result as the theme's teaser: headline, then place, date and (in another language than
  // the site's) the language, then an excerpt of the body with the words found marked.
  const resultOf = (data, terms) => {
    const meta = data.meta || {};
    const lang = codeOf(String(meta.lang || ""));
    const item = element("li", "search-result");
    const teaser = element("article", "teaser");
    if (lang) {
      teaser.lang = lang;
      teaser.dir = directionOf(lang);
    }
    const heading = element("h2", "search-result-title");
    const title = headlineOf(meta.title || data.url, foundForms(terms, data.excerpt));
    if (sameSite(data.url)) {
      const link = element("a");
      link.append(...title);
      link.setAttribute("href", data.url);
      heading.append(link);
    } else {
      heading.append(...title);
    }
    teaser.append(heading);
    const byline = element("p", "byline");
    if (meta.place) byline.append(element("span", "dateline", meta.place));
    if (/^\d{4}-\d\d-\d\d$/.test(meta.date || "")) {
      const time = element("time", "", dateOf(meta.date, lang));
      time.dateTime = meta.date;
      byline.append(time);
    }
    if (lang && lang.split("-")[0].toLowerCase() !== siteLang.split("-")[0].toLowerCase()) {
      const mark = element("span", "lang-mark", languageName(lang));
      mark.lang = siteLang;
      mark.dir = directionOf(siteLang);
      byline.append(mark);
    }
    if (byline.childNodes.length) teaser.append(byline);
    if (data.excerpt) teaser.append(excerptOf(data.excerpt, data.content));
    item.append(teaser);
    return item;
  };

  const fill = (template, values) =>
    template.replace(/\{(\w+)\}/g, (all, key) => (key in values ? String(values[key]) : all));

  const statusOf = (count, query) => {
    const amount = count === 0 ? text.none : count === 1 ? text.one : fill(text.many, {count});
    return query ? amount + " " + fill(text.for, {query}) : amount;
  };

  // Years newest first, undated last; places and languages in the reader's alphabetical order.
  const sortValues = (values) => {
    const lang = siteLang || undefined;
    return values.sort((a, b) => {
      if (a === UNDATED || b === UNDATED) return (a === UNDATED) - (b === UNDATED);
      if (/^\d+$/.test(a) && /^\d+$/.test(b)) return b - a;
      return a.localeCompare(b, lang, {numeric: true});
    });
  };

  // --- state: the URL holds it all ----------------------------------------------------------
  // ?q=words&sort=date&f=Name:value (one f a value chosen); history.state also keeps how
  // many results were shown and where the page was scrolled, for Back.

  const stateFrom = (search) => {
    const params = new URLSearchParams(search);
    const filters = new Map();
    for (const pair of params.getAll("f")) {
      const at = pair.indexOf(":");
      if (at < 1) continue;
      const name = pair.slice(0, at);
      if (!filters.has(name)) filters.set(name, new Set());
      filters.get(name).add(pair.slice(at + 1));
    }
    return {q: params.get("q") || "", sort: params.get("sort") === "date" ? "date" : "relevance", filters};
  };

  const urlOf = (state) => {
    const params = new URLSearchParams();
    if (state.q) params.set("q", state.q);
    if (state.sort === "date") params.set("sort", "date");
    for (const [name, values] of state.filters) for (const value of values) params.append("f", `${name}:${value}`);
    const query = params.toString();
    return location.pathname + (query ? "?" + query : "");
  };

  // --- the page -----------------------------------------------------------------------------

  const build = (engine) => {
    const controls = element("div", "search-controls");
    const sortBox = element("fieldset", "search-sort");
    sortBox.append(element("legend", "", text.sort));
    const sortInputs = {};
    for (const [value, label] of [["relevance", text.relevance], ["date", text.newest]]) {
      const choice = element("label");
      const radio = element("input");
      radio.type = "radio";
      radio.name = "sort";
      radio.value = value;
      radio.addEventListener("change", () => update({push: true}));
      sortInputs[value] = radio;
      choice.append(radio, " ", label);
      sortBox.append(choice);
    }
    const filterBox = element("div", "search-filters");
    const status = element("p", "search-status");
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    const suggestions = element("p", "search-suggestions");
    suggestions.hidden = true;
    // Where a query finds nothing: what to try, and the way to every article without search.
    const hint = element("p", "search-hint", text.hint + " ");
    const browse = element("a", "", text.browse);
    browse.setAttribute("href", text.archive);
    hint.append(browse);
    hint.hidden = true;
    const list = element("ol", "search-results");
    const more = element("button", "search-more", text.more);
    more.type = "button";
    more.hidden = true;

    const checkboxes = new Map(); // "name\0value" -> checkbox
    const countSpans = new Map(); // "name\0value" -> the <span> that shows its count
    let totals = null; // every filter value's count over the whole index, once loaded
    let lastCounts = null; // the counts of the results shown
    let wanted = new Map(); // filters chosen (from the URL) before the filters were loaded
    let shownState = null; // the state whose results are shown
    // The groups are drawn at once, closed, from the names in shards.json; their values load
    // when one is opened (or the URL chooses a value), so a query alone never loads them.
    const groups = new Map(); // name -> its list of values
    const loadValues = () =>
      engine.loadFilters().then(drawValues, (error) => console.error("newsgen search:", error));
    for (const name of engine.filterNames) {
      const group = element("details", "search-filter");
      group.append(element("summary", "", name));
      group.addEventListener("toggle", () => group.open && loadValues());
      const values = element("ul");
      group.append(values);
      groups.set(name, values);
      filterBox.append(group);
    }
    const drawValues = (all) => {
      if (totals) return;
      totals = all;
      for (const [name, values] of groups) drawGroup(values, name, all[name] || {});
      show({...read(), filters: wanted});
      showCounts(lastCounts);
      recount();
    };
    const drawGroup = (values, name, all) => {
      for (const value of sortValues(Object.keys(all))) {
        const label = element("label");
        const checkbox = element("input");
        checkbox.type = "checkbox";
        checkbox.addEventListener("change", () => update({push: true}));
        checkboxes.set(name + "\0" + value, checkbox);
        const count = element("span", "count", String(all[value]));
        countSpans.set(name + "\0" + value, count);
        const shown = value === UNDATED ? text.undated : value;
        label.append(checkbox, element("span", "search-filter-value", shown), count);
        const item = element("li");
        item.append(label);
        values.append(item);
      }
    };
    controls.append(sortBox, filterBox);

    const read = () => {
      if (!totals) return {q: input.value.trim(), sort: sortInputs.date.checked ? "date" : "relevance", filters: wanted};
      const filters = new Map();
      for (const [key, checkbox] of checkboxes) {
        if (!checkbox.checked) continue;
        const [name, value] = key.split("\0");
        if (!filters.has(name)) filters.set(name, new Set());
        filters.get(name).add(value);
      }
      return {q: input.value.trim(), sort: sortInputs.date.checked ? "date" : "relevance", filters};
    };

    const show = (state) => {
      if (!totals) wanted = state.filters;
      if (state.filters.size) loadValues();
      input.value = state.q;
      sortInputs[state.sort].checked = true;
      for (const [key, checkbox] of checkboxes) {
        const [name, value] = key.split("\0");
        checkbox.checked = Boolean(state.filters.get(name)?.has(value));
        if (checkbox.checked) checkbox.closest("details").open = true;
      }
    };

    const showCounts = (found) => {
      lastCounts = found;
      for (const [key, span] of countSpans) {
        const [name, value] = key.split("\0");
        span.textContent = String(found ? (found[name] && found[name][value]) || 0 : totals[name][value]);
      }
    };

    // Pagefind counts only the filter values it has loaded: counts made before they were are
    // made again once they are.
    const recount = async () => {
      const mine = ticket;
      if (!shownState || !engine.filtersLoaded) return;
      const again = await run(engine, shownState);
      if (mine === ticket && again) showCounts(again.counts);
    };

    let ticket = 0;
    let cursor = null;
    let shownCount = 0;

    const showMore = async (count = PAGE_SIZE) => {
      const mine = ticket;
      // Each result is drawn as soon as it and those before it are loaded.
      const terms = termsOf(shownState.q);
      for (const item of await cursor.next(count)) {
        const data = await item;
        if (mine !== ticket) return;
        list.append(resultOf(data, terms));
        shownCount += 1;
      }
      more.hidden = shownCount >= cursor.total;
      remember();
    };

    const draw = async (state, {shown = PAGE_SIZE, scroll = null} = {}) => {
      const mine = ++ticket;
      const outcome = await run(engine, state);
      if (mine !== ticket) return;
      shownState = state;
      list.replaceChildren();
      suggestions.replaceChildren();
      suggestions.hidden = true;
      hint.hidden = true;
      shownCount = 0;
      if (!outcome) {
        cursor = null;
        status.textContent = "";
        more.hidden = true;
        showCounts(null);
        return;
      }
      cursor = cursorOf(outcome);
      showCounts(outcome.counts);
      await showMore(Math.max(PAGE_SIZE, shown));
      if (mine !== ticket) return;
      // Announced once the results it counts are there to be read.
      status.textContent = statusOf(cursor.total, state.q);
      hint.hidden = cursor.total > 0 || !termsOf(state.q).length;
      if (scroll !== null) window.scrollTo(0, scroll);
      if (!outcome.complete) await recount();
      if (!cursor.total && outcome.missing.length) offer(state, outcome.missing, mine);
    };

    // The query with every word that is in no article replaced by an indexed word near it
    // (the nearest, then the next nearest), offered only where it finds something with the
    // filters chosen: mending one of two misspelt words, or a word that no article has
    // beside the others, led to another page of no results.
    const offer = async (state, missing, mine) => {
      const near = await Promise.all(missing.map((term) => suggestionsFor(engine, term)));
      if (mine !== ticket || near.some((words) => !words.length)) return;
      const mended = (term, k) => {
        const words = near[missing.indexOf(term)] || [term];
        return words[Math.min(k, words.length - 1)];
      };
      const queries = [];
      for (let k = 0; k < 3; k++) {
        const q = termsOf(state.q).map((term) => mended(term, k)).join(" ");
        if (!queries.includes(q)) queries.push(q);
      }
      const finding = [];
      for (const q of queries) {
        const outcome = await run(engine, {...state, q});
        if (mine !== ticket) return;
        if (outcome.lists.some((list) => list.length)) finding.push(q);
      }
      if (!finding.length) return;
      suggestions.append(text.didYouMean + " ");
      finding.forEach((q, i) => {
        if (i) suggestions.append(", ");
        const link = element("a", "", q);
        link.setAttribute("href", urlOf({...state, q}));
        link.addEventListener("click", (event) => {
          event.preventDefault();
          input.value = q;
          update({push: true});
        });
        suggestions.append(link);
      });
      suggestions.append("?");
      suggestions.hidden = false;
    };

    // What Back needs besides the URL: how many results were shown and the scroll position.
    const remember = () => {
      const kept = {...history.state, shown: shownCount, scroll: window.scrollY};
      history.replaceState(kept, "", location.href);
    };

    // `push`: a new history entry (a search submitted, a sort or a filter chosen); `typed`:
    // words typed and not yet submitted. Typing over a search shown makes an entry of its
    // own (`typed` in its state), replaced as the words change and kept by the submit, so
    // that Back leads to the search before it however long the reader paused while typing.
    // Over the empty search page, typing replaces that page's entry and keeps its address
    // (`over`); the submit gives the page its address back and adds an entry, so that Back
    // leads to the empty page, not to the same search again.
    const update = ({push, typed = false}) => {
      const state = read();
      const url = urlOf(state);
      const own = history.state?.typed === true;
      const over = own ? history.state.over : undefined;
      const entry = {shown: PAGE_SIZE, scroll: 0, typed};
      if (typed && !own && stateFrom(location.search).q) {
        history.pushState(entry, "", url);
      } else if (typed) {
        history.replaceState({...entry, over: own ? over : location.href}, "", url);
      } else if (push && over && new URL(url, location.href).href !== over) {
        history.replaceState({shown: PAGE_SIZE, scroll: 0}, "", over);
        history.pushState(entry, "", url);
      } else if (push && !own) {
        history.pushState(entry, "", url);
      } else {
        history.replaceState(entry, "", url);
      }
      draw(state);
    };

    more.addEventListener("click", () => showMore());
    let scrollTimer = 0;
    window.addEventListener("scroll", () => {
      clearTimeout(scrollTimer);
      scrollTimer = setTimeout(remember, 100);
    });
    window.addEventListener("pagehide", remember);
    window.addEventListener("popstate", (event) => {
      const state = stateFrom(location.search);
      show(state);
      draw(state, {shown: event.state?.shown || PAGE_SIZE, scroll: event.state?.scroll ?? 0});
    });

    box.replaceChildren(controls, status, hint, suggestions, list, more);
    document.getElementById("search-needs-js")?.remove();
    const state = stateFrom(location.search);
    // Words typed while the index was loading win over an empty query in the URL: typed
    // over the empty search page, as if the index had been there (see `update`).
    const typed = input.value.trim();
    show(state);
    if (typed && !state.q) {
      input.value = typed;
      update({push: false, typed: true});
    } else {
      draw(state, {shown: history.state?.shown || PAGE_SIZE, scroll: history.state?.scroll ?? null});
    }
    return update;
  };

  if ("scrollRestoration" in history) history.scrollRestoration = "manual";
  // The query of a link is in the box at once, before the index has loaded.
  if (!input.value) input.value = stateFrom(location.search).q;
  if (!input.value) input.focus();
  const ready = loadEngine().then(build);
  ready.catch((error) => console.error("newsgen search:", error));
  // Typing and submitting are heard from the start; they act once the index is loaded.
  let timer = 0;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => ready.then((update) => update({push: false, typed: true})), 200);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    ready.then((update) => update({push: true}));
  });
})();
