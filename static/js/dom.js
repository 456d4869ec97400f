// Building DOM nodes without innerHTML (nothing a user typed is ever parsed as markup).

/** `el("p", {class: "caption", text: "…", "data-testid": "x"}, [child, …])`: a new element;
 *  `text` sets its text, `class` its class list, any other key an attribute. */
export const el = (tag, attrs = {}, children = []) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else if (k === "class") node.className = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
};
