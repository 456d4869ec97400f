// Share dialog: the link of the current view and its QR code (drawn by our own encoder).
import { t } from "../i18n.js";
import { drawQR, encodeQR } from "./qr.js";

export function initShare({ getUrl }) {
  const dialog = document.querySelector('[data-testid="share-dialog"]');
  const canvas = dialog.querySelector('[data-testid="share-qr"]');
  const note = dialog.querySelector('[data-testid="share-qr-note"]');
  const input = dialog.querySelector('[data-testid="share-link"]');
  const copy = dialog.querySelector('[data-testid="share-copy"]');

  document.querySelector('[data-testid="share"]').addEventListener("click", () => {
    const url = getUrl();
    input.value = url;
    let qr = null;
    try {
      qr = encodeQR(url, { level: "M", maxVersion: 25 });
    } catch {
      try { qr = encodeQR(url, { level: "L", maxVersion: 40 }); } catch { qr = null; }
    }
    canvas.hidden = !qr;
    note.hidden = Boolean(qr);
    if (qr) {
      const scale = Math.max(2, Math.floor(300 / (qr.size + 8)));
      drawQR(canvas, qr, { scale });
      canvas.dataset.version = String(qr.version);
    }
    copy.textContent = t("st.share.copy");
    dialog.showModal();
    input.select();
  });

  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(input.value);
    } catch {
      input.select();
      document.execCommand?.("copy");
    }
    copy.textContent = t("st.share.copied");
  });
}
