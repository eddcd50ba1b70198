// newsgen serve: reloads this page when a rebuild changed it; shows why a change did not build.
// Added to pages as they are served, never written into the output folder.
(() => {
  "use strict";
  const file = document.currentScript.dataset.file;
  let box = null;
  const hide = () => { if (box) { box.remove(); box = null; } };
  const show = (messages) => {
    hide();
    box = document.createElement("div");
    box.id = "newsgen-problems";
    box.setAttribute("role", "alert");
    // Property by property (CSSOM), never a style attribute: the pages' Content-Security-
    // Policy may refuse inline styles.
    Object.assign(box.style, {
      position: "fixed", left: "0", right: "0", bottom: "0", zIndex: "2147483647",
      maxHeight: "60vh", overflow: "auto", margin: "0", padding: "1em 1.5em",
      background: "#fff4f4", color: "#600", borderTop: "4px solid #c00",
      font: "14px/1.5 monospace", whiteSpace: "pre-wrap",
    });
    box.textContent = "newsgen serve: the last change did not build; " +
      "this is the last good build.\n\n" + messages.join("\n");
    document.body.append(box);
  };
  const events = new EventSource("/__newsgen/events");
  events.addEventListener("problems", (e) => show(JSON.parse(e.data).messages));
  events.addEventListener("ok", hide);
  events.addEventListener("reload", (e) => {
    const files = JSON.parse(e.data).files;
    if (files === null || file === "" || files.includes(file)) location.reload();
  });
})();
