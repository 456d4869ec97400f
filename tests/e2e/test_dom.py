"""static/js/dom.js: the one ``el()`` every page builds its DOM with, checked in Chromium under
the Content-Security-Policy as sent (an inline ``style`` must still apply)."""

from __future__ import annotations

from typing import Any


def test_el_builds_attributes_text_and_children_when_called(strict_page: Any) -> None:
    strict_page.goto(strict_page.base_url + "/step")
    built = strict_page.evaluate("""async () => {
      const { el } = await import('/static/js/dom.js');
      const node = el('button', {
        class: 'btn wide', text: 'lead', type: 'button', hidden: true,
        'data-testid': 'x', 'data-r': 0, 'aria-pressed': 'false', title: null, name: undefined,
        disabled: false, style: 'min-width: 7px; --st-i: 3',
      }, [el('i', { text: 'a' }), null, 'b', undefined, false, el('b')]);
      document.body.append(node);
      return {
        html: node.outerHTML,
        hidden: node.hidden, disabled: node.disabled,
        attrs: node.getAttributeNames().sort(),
        minWidth: node.style.minWidth, custom: node.style.getPropertyValue('--st-i').trim(),
        children: [...node.childNodes].map((n) => n.nodeName),
        empty: el('p').outerHTML, textOnly: el('p', { text: '<b>no markup</b>' }).innerHTML,
      };
    }""")
    assert built["hidden"] is True and built["disabled"] is False
    assert built["attrs"] == ["aria-pressed", "class", "data-r", "data-testid", "hidden", "style",
                              "type"]
    assert 'hidden=""' in built["html"] and 'data-r="0"' in built["html"]
    assert 'aria-pressed="false"' in built["html"]  # a string "false" is a value, kept
    assert built["minWidth"] == "7px" and built["custom"] == "3"
    # the text first, then the children; null, undefined and false are skipped
    assert built["children"] == ["#text", "I", "#text", "B"]
    assert built["empty"] == "<p></p>"
    assert built["textOnly"] == "&lt;b&gt;no markup&lt;/b&gt;"
