// Keyboard moderation: j/k move, x select, a approve, r reject, ? help. The first comment starts selected.
(function () {
  "use strict";
  const items = Array.from(document.querySelectorAll("li.comment"));
  const form = document.getElementById("decide");
  const help = document.getElementById("help");
  let current = 0;

  function select(index) {
    if (!items.length) return;
    current = Math.max(0, Math.min(items.length - 1, index));
    items.forEach((item, i) => item.classList.toggle("current", i === current));
    items[current].focus({ preventScroll: false });
    items[current].scrollIntoView({ block: "nearest" });
  }

  function checked() {
    return items.filter((item) => item.querySelector("input.select").checked);
  }

  function submit(action, targets) {
    if (!form || !targets.length) return;
    items.forEach((item) => { item.querySelector("input.select").checked = targets.includes(item); });
    const hidden = document.getElementById("decide-action");
    hidden.name = "action";  // unnamed until now, so a mouse click on a bulk button sends only its own value
    hidden.value = action;
    form.submit();
  }

  function toggleHelp() {
    if (help) help.hidden = !help.hidden;
  }

  document.addEventListener("keydown", (event) => {
    const tag = (event.target.tagName || "").toLowerCase();
    if (["input", "textarea", "select"].includes(tag) || event.ctrlKey || event.metaKey || event.altKey) return;
    const targets = checked().length ? checked() : items.slice(current, current + 1);
    switch (event.key) {
      case "j": select(current + 1); break;
      case "k": select(current - 1); break;
      case "x": if (items.length) { const box = items[current].querySelector("input.select"); box.checked = !box.checked; } break;
      case "a": submit("approve", targets); break;
      case "r": submit("reject", targets); break;
      case "?": toggleHelp(); break;
      case "Escape": if (help) help.hidden = true; break;
      default: return;
    }
    event.preventDefault();
  });

  items.forEach((item, i) => {
    item.addEventListener("click", () => select(i));
    const approve = item.querySelector(".approve-one");
    const reject = item.querySelector(".reject-one");
    if (approve) approve.addEventListener("click", () => submit("approve", [item]));
    if (reject) reject.addEventListener("click", () => submit("reject", [item]));
  });
  const show = document.getElementById("show-help");
  const close = document.getElementById("close-help");
  if (show) show.addEventListener("click", toggleHelp);
  if (close) close.addEventListener("click", toggleHelp);
  select(0);
})();
