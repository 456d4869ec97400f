// Building DOM nodes without innerHTML (nothing a user typed is ever parsed as markup).

/** `el("p", {class: "caption", text: "…", "data-testid": "x"}, [child, …])`: a new element;
 *  `text` sets its text, `class` its class list, `style` its inline style, any other key an
 *  attribute (`true` makes it present and empty, as `hidden` or `readonly` want). A value of
 *  null, undefined or false leaves its key out, and such a child is skipped, so optional parts
 *  can be written inline: `el("b", {title: tip ?? null}, [note && el("i", {text: note})])`. */
export const el = (tag, attrs = {}, children = []) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k === "class") node.className = v;
    else if (k === "style") node.style.cssText = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
};
