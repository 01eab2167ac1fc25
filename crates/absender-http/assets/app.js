// Progressive extras; every page works without them.
"use strict";

// Copy buttons: shown only where the clipboard can be used.
function showCopyButtons(root) {
  if (!navigator.clipboard) return;
  root.querySelectorAll("button.copy[hidden]").forEach((b) => { b.hidden = false; });
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button.copy");
  if (!button) return;
  navigator.clipboard.writeText(button.dataset.copy).then(() => {
    const label = button.textContent;
    button.textContent = button.dataset.copied;
    setTimeout(() => { button.textContent = label; }, 1500);
  });
});

// Live status: the wizard's body is fetched again every few seconds and
// replaced only when it changed, so focus and reading position stay put.
// One request at a time: the next is planned when the last has answered.
function startLiveRefresh(region) {
  let last = region.innerHTML;
  const next = () => setTimeout(refresh, 2000);
  const refresh = () => {
    if (document.hidden) return next();
    fetch(region.dataset.liveUrl, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      // Signed out meanwhile (redirected to the sign-in page): leave the page as it is.
      .then((r) => (r.ok && !r.redirected ? r.text() : null))
      .then((html) => {
        if (html === null || html === last) return;
        last = html;
        region.innerHTML = html;
        showCopyButtons(region);
      })
      .catch(() => {})
      .finally(next);
  };
  next();
}

document.addEventListener("DOMContentLoaded", () => {
  showCopyButtons(document);
  const live = document.querySelector("[data-live-url]");
  if (live) startLiveRefresh(live);
});
