// The one hook a page offers so a student's copy of it follows the teacher without reloading:
//   onFollow((query) => { ...set the page's store from the query...; return true; });
// The room page calls window.svertkaLive.follow(query) inside its frame; a page without a hook
// (or whose hook returns false) is simply reloaded at the teacher's URL.

let handler = null;

export function onFollow(fn) {
  handler = fn;
}

export function follow(query) {
  if (!handler) return false;
  try {
    return handler(query) !== false;
  } catch (err) {
    console.error("[live] following failed; reloading instead", err);
    return false;
  }
}

window.svertkaLive = Object.assign(window.svertkaLive || {}, { follow });
