// newsgen search page: a search box, filters and results over the site's Pagefind shards.
// Headlines, excerpts and filter values come from the index, which is built from articles that
// anyone contributing to the site may have written: every one of them goes into the page as
// text (createElement, textContent, text nodes), never as markup.
(() => {
  "use strict";
  const PAGE_SIZE = 10;
  const box = document.getElementById("search");
  if (!box) return;
  const text = box.dataset;

  // --- the engine: Pagefind's JS API over every shard, or nothing on a site without articles

  const loadEngine = async () => {
    const response = await fetch(text.bundle + "shards.json", {cache: "no-cache"});
    if (!response.ok) throw new Error(`${text.bundle}shards.json: HTTP ${response.status}`);
    const shards = (await response.json()).shards;
    if (!shards.length) return {filters: {}, search: async () => ({results: [], filters: {}})};
    // The first shard is the site language's: Pagefind's primary index. Every other shard is
    // merged in its own language, so each keeps its stemming.
    const [primary, ...others] = shards;
    const pagefind = await import(text.bundle + primary.name + "/pagefind.js");
    await pagefind.options({baseUrl: text.base});
    for (const shard of others) {
      await pagefind.mergeIndex(text.bundle + shard.name + "/", {
        language: shard.lang,
        baseUrl: text.base,
      });
    }
    return {
      filters: await pagefind.filters(),
      search: (query, filters) => pagefind.search(query || null, {filters}),
    };
  };

  // --- drawing, with text only

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

  const excerptOf = (excerpt) => {
    const paragraph = element("p", "search-excerpt");
    let marked = false;
    for (const piece of String(excerpt).split(/(<mark>|<\/mark>)/)) {
      if (piece === "<mark>" || piece === "</mark>") {
        marked = piece === "<mark>";
      } else if (piece) {
        const words = unescapeExcerpt(piece);
        paragraph.append(marked ? element("mark", "", words) : document.createTextNode(words));
      }
    }
    return paragraph;
  };

  // Only a link into this site: an index could hold any string where a URL should be.
  const sameSite = (url) => {
    try {
      return new URL(url, location.href).origin === location.origin;
    } catch {
      return false;
    }
  };

  const resultOf = (data) => {
    const item = element("li", "search-result");
    const heading = element("h2", "search-result-title");
    const title = (data.meta && data.meta.title) || data.url;
    if (sameSite(data.url)) {
      const link = element("a", "", title);
      link.setAttribute("href", data.url);
      heading.append(link);
    } else {
      heading.textContent = title;
    }
    item.append(heading, excerptOf(data.excerpt || ""));
    return item;
  };

  const fill = (template, values) =>
    template.replace(/\{(\w+)\}/g, (all, key) => (key in values ? String(values[key]) : all));

  const statusOf = (count, query) => {
    const amount = count === 0 ? text.none : count === 1 ? text.one : fill(text.many, {count});
    return query ? amount + " " + fill(text.for, {query}) : amount;
  };

  // Years newest first; places and languages in the reader's alphabetical order.
  const sortValues = (values) => {
    if (values.every((v) => /^\d+$/.test(v))) return values.sort((a, b) => b - a);
    const lang = document.documentElement.lang || undefined;
    return values.sort((a, b) => a.localeCompare(b, lang, {numeric: true}));
  };

  // --- the page

  const build = (engine) => {
    const form = element("form", "search-form");
    form.setAttribute("role", "search");
    const input = element("input");
    input.type = "search";
    input.name = "q";
    input.id = "search-query";
    input.autocomplete = "off";
    input.setAttribute("aria-label", text.label);
    const submit = element("button", "", text.submit);
    submit.type = "submit";
    form.append(input, submit);

    const filterBox = element("div", "search-filters");
    const status = element("p", "search-status");
    status.setAttribute("role", "status");
    const list = element("ol", "search-results");
    const more = element("button", "search-more", text.more);
    more.type = "button";
    more.hidden = true;

    const chosen = new Map(); // filter name -> Set of values checked
    const counts = new Map(); // "name\0value" -> the <span> that shows its count
    const groups = Object.keys(engine.filters);
    if (groups.length) filterBox.append(element("h2", "search-filters-title", text.filters));
    for (const name of groups) {
      const group = element("details", "search-filter");
      group.append(element("summary", "", name));
      const values = element("ul");
      chosen.set(name, new Set());
      for (const value of sortValues(Object.keys(engine.filters[name]))) {
        const label = element("label");
        const checkbox = element("input");
        checkbox.type = "checkbox";
        checkbox.addEventListener("change", () => {
          if (checkbox.checked) chosen.get(name).add(value);
          else chosen.get(name).delete(value);
          run();
        });
        const count = element("span", "count", String(engine.filters[name][value]));
        counts.set(name + "\0" + value, count);
        label.append(checkbox, " ", element("span", "search-filter-value", value), " ", count);
        const item = element("li");
        item.append(label);
        values.append(item);
      }
      group.append(values);
      filterBox.append(group);
    }

    const showCounts = (found) => {
      for (const [key, span] of counts) {
        const [name, value] = key.split("\0");
        const n = found && found[name] ? found[name][value] || 0 : engine.filters[name][value];
        span.textContent = String(n);
      }
    };

    // Each group's values are alternatives (an article has one language, place, year).
    const filterQuery = () => {
      const filters = {};
      for (const [name, values] of chosen) if (values.size) filters[name] = {any: [...values]};
      return filters;
    };

    let latest = 0;
    let pending = [];
    const showMore = async () => {
      const ticket = latest;
      const batch = pending.slice(0, PAGE_SIZE);
      pending = pending.slice(PAGE_SIZE);
      const items = await Promise.all(batch.map((result) => result.data()));
      if (ticket !== latest) return;
      list.append(...items.map(resultOf));
      more.hidden = pending.length === 0;
    };

    const run = async () => {
      const ticket = ++latest;
      const query = input.value.trim();
      const filters = filterQuery();
      const params = query ? "?" + new URLSearchParams({q: query}) : "";
      history.replaceState(null, "", location.pathname + params);
      if (!query && !Object.keys(filters).length) {
        list.replaceChildren();
        status.textContent = "";
        more.hidden = true;
        showCounts(null);
        return;
      }
      const found = await engine.search(query, filters);
      if (ticket !== latest) return;
      list.replaceChildren();
      pending = found.results;
      status.textContent = statusOf(found.results.length, query);
      showCounts(found.filters);
      await showMore();
    };

    let timer = 0;
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(run, 250);
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      clearTimeout(timer);
      run();
    });
    more.addEventListener("click", showMore);

    box.replaceChildren(form, filterBox, status, list, more);
    document.getElementById("search-needs-js")?.remove();
    input.value = new URLSearchParams(location.search).get("q") || "";
    input.focus();
    if (input.value) run();
  };

  loadEngine().then(build, (error) => console.error("newsgen search:", error));
})();
