/*
 * The chat on another website, with one tag:
 *
 *   <script src="https://bot.example.org/chat/embed.js" async></script>
 *
 * It adds a launcher button at the bottom right of the page. The button opens a panel holding
 * the bot's own chat page (/chat/embedded) in a frame, so the conversation stays with the bot:
 * the host page's scripts cannot read it, its styles cannot change it, and the chat keeps its
 * own strict Content-Security-Policy. The bot lets only the origins in BOT_ALLOWED_ORIGINS frame
 * that page; anywhere else the panel says the chat can't be shown here and links to it.
 *
 * The launcher and the panel live in a shadow root (the host page's CSS can't reach them), with
 * their look in embed.css from the bot. The frame is created on the first click, so visitors who
 * never open the chat never connect to the bot.
 *
 * Optional attribute on the tag: data-label="..." (the launcher's text).
 */
(function () {
  "use strict";

  const script = document.currentScript;
  if (!script || !script.src || window.sciaticaChatEmbedded) return;
  window.sciaticaChatEmbedded = true;

  const MESSAGE_SOURCE = "sciatica-chat";
  const READY_AFTER_LOAD_MS = 3000; // the frame says "ready" as soon as its script runs
  const READY_AT_ALL_MS = 20000; // in case the frame never even finishes loading
  const base = new URL(".", script.src); // https://bot.example.org/chat/
  const botOrigin = base.origin;
  const label = script.getAttribute("data-label") || "Back pain? Chat with the sciatica helper";

  let frame = null;
  let ready = false;
  let readyTimer = null;

  function element(tag, attributes, text) {
    const node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const host = element("div", { "data-sciatica-chat": "" });
  const root = host.attachShadow({ mode: "open" });
  root.appendChild(element("link", { rel: "stylesheet", href: new URL("embed.css", base).href }));

  const launcher = element(
    "button",
    { type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "panel" },
    label,
  );

  const panel = element("div", {
    id: "panel",
    class: "panel",
    role: "dialog",
    "aria-labelledby": "panel-title",
    hidden: "",
  });
  const header = element("div", { class: "panel-header" });
  header.appendChild(element("h2", { id: "panel-title" }, "Sciatica helper"));
  const close = element("button", { type: "button", class: "close", "aria-label": "Close the chat" }, "×");
  header.appendChild(close);
  panel.appendChild(header);

  const fallback = element("div", { class: "fallback", role: "alert", hidden: "" });
  fallback.appendChild(element("p", {}, "The chat can't be shown on this website."));
  const direct = element("a", { href: base.href, target: "_blank", rel: "noopener noreferrer" });
  direct.textContent = "Open the chat in a new tab";
  fallback.appendChild(direct);
  panel.appendChild(fallback);

  root.appendChild(launcher);
  root.appendChild(panel);

  function createFrame() {
    frame = element("iframe", {
      class: "frame",
      title: "Sciatica helper chat",
      src: new URL("embedded", base).href,
      referrerpolicy: "no-referrer",
    });
    frame.addEventListener("load", function () {
      clearTimeout(readyTimer);
      readyTimer = setTimeout(checkReady, READY_AFTER_LOAD_MS);
    });
    readyTimer = setTimeout(checkReady, READY_AT_ALL_MS);
    panel.appendChild(frame);
  }

  // The bot refused to be framed here (or could not be reached): say so instead of a blank box.
  function checkReady() {
    if (ready || !frame) return;
    frame.hidden = true;
    fallback.hidden = false;
  }

  function tellFrame(type) {
    if (frame && frame.contentWindow && ready) {
      frame.contentWindow.postMessage({ source: MESSAGE_SOURCE, type: type }, botOrigin);
    }
  }

  function open() {
    if (!frame) createFrame();
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    if (ready) {
      frame.focus();
      tellFrame("focus");
    } else {
      close.focus();
    }
  }

  function shut() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (panel.hidden) open();
    else shut();
  });
  close.addEventListener("click", shut);
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") shut();
  });

  // Messages from the chat in the frame: "ready" when it has loaded, "close" on Escape.
  window.addEventListener("message", function (event) {
    if (!frame || event.source !== frame.contentWindow || event.origin !== botOrigin) return;
    const data = event.data;
    if (!data || data.source !== MESSAGE_SOURCE) return;
    if (data.type === "ready") {
      ready = true;
      clearTimeout(readyTimer);
      frame.hidden = false;
      fallback.hidden = true;
      if (!panel.hidden && root.activeElement === close) {
        frame.focus();
        tellFrame("focus");
      }
    } else if (data.type === "close") {
      shut();
    }
  });

  function mount() {
    document.body.appendChild(host);
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
