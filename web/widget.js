/*
 * The chat page's script: talks to the bot over socket.io (channels/webchat.py) and shows the
 * conversation.
 *
 * - Everything the bot or the person wrote is shown with textContent, never as HTML. The only
 *   links are to the bot's own source pages, built from a document id in a `sources` payload.
 * - The conversation is kept in sessionStorage (not localStorage: it is health information and
 *   the computer may be shared), so it survives a reload and is gone when the tab is closed or
 *   the person has it deleted ("forget me").
 * - A `triage` payload marks the bot message just before it (emergency, urgent, ...).
 * - A `summary` payload marks the summary for a doctor just before it; the page offers it as a
 *   print-ready page to download (built here from the message's text, nothing else).
 * - In another website's frame (embed.js), the page tells the frame's parent when it is ready
 *   and when Escape is pressed, and takes the focus when the panel opens.
 */
(function () {
  "use strict";

  const STORE_KEY = "sciatica-chat";
  const MAX_CHARS = 2000;
  const DOC_ID = /^d\d{3}$/;
  const LEVEL_LABELS = {
    emergency: "Emergency",
    crisis: "Get help now",
    urgent: "Urgent",
    routine: "See a clinician",
    self_care: "Self care",
  };
  const TYPING_TIMEOUT_MS = 30000;
  const EMBED_MESSAGES = "sciatica-chat";
  const SUMMARY_REQUEST = "summary for my doctor";

  const transcript = document.getElementById("transcript");
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const repliesBox = document.getElementById("replies");
  const statusLine = document.getElementById("status");
  const typing = document.getElementById("typing");
  const forgetButton = document.getElementById("forget");
  const summaryButton = document.getElementById("summary");

  let state = load();
  let ready = false; // a session is confirmed for this socket
  let pending = []; // messages typed before the session was confirmed
  let answeredByReply = false;
  let typingTimer = null;

  // --- storage ------------------------------------------------------------------------------

  function emptyState() {
    return { sessionId: null, messages: [] };
  }

  function load() {
    try {
      const raw = window.sessionStorage.getItem(STORE_KEY);
      if (!raw) return emptyState();
      const parsed = JSON.parse(raw);
      if (!parsed || !Array.isArray(parsed.messages)) return emptyState();
      return {
        sessionId: typeof parsed.sessionId === "string" ? parsed.sessionId : null,
        messages: parsed.messages.filter(isStoredMessage),
      };
    } catch (error) {
      return emptyState();
    }
  }

  function isStoredMessage(message) {
    return (
      message &&
      (message.from === "bot" || message.from === "user") &&
      typeof message.text === "string"
    );
  }

  function save() {
    try {
      window.sessionStorage.setItem(STORE_KEY, JSON.stringify(state));
    } catch (error) {
      // storage full or switched off: the chat still works, it just won't survive a reload
    }
  }

  function clearStored() {
    try {
      window.sessionStorage.removeItem(STORE_KEY);
    } catch (error) {
      // nothing stored
    }
  }

  // --- rendering ----------------------------------------------------------------------------

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function renderMessage(message) {
    const node = element("div", "msg msg--" + message.from);
    const who = message.from === "user" ? "You: " : "Helper: ";
    const text = element("p", "msg-text");
    text.appendChild(element("span", "visually-hidden", who));
    text.appendChild(element("span", "msg-body", message.text));
    node.appendChild(text);
    if (message.level) applyLevel(node, message.level);
    if (message.sources) renderSources(node, message.sources);
    if (message.summary) renderSummaryDownload(node, message);
    transcript.appendChild(node);
    return node;
  }

  function applyLevel(node, level) {
    if (!Object.prototype.hasOwnProperty.call(LEVEL_LABELS, level)) return;
    node.classList.add("msg--level", "msg--" + level);
    node.setAttribute("data-level", level);
    if (!node.querySelector(".badge")) {
      node.insertBefore(element("span", "badge", LEVEL_LABELS[level]), node.firstChild);
    }
  }

  // Relative to the page at /chat/: the bot's own source pages, nothing else.
  function sourceHref(documentId) {
    return "sources/" + encodeURIComponent(documentId);
  }

  function renderSources(node, sources) {
    const old = node.querySelector(".sources");
    if (old) old.remove();
    const box = element("div", "sources");
    box.appendChild(element("span", "", sources.length > 1 ? "Read the sources:" : "Read the source:"));
    const list = element("ul");
    sources.forEach(function (source) {
      const link = element("a", "", source.title);
      link.href = sourceHref(source.document);
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      link.appendChild(element("span", "visually-hidden", " (opens in a new tab)"));
      const item = element("li");
      item.appendChild(link);
      list.appendChild(item);
    });
    box.appendChild(list);
    node.appendChild(box);
  }

  function renderSummaryDownload(node, message) {
    if (node.querySelector(".summary-download")) return;
    const button = element("button", "summary-download", "Download this summary (print-ready page)");
    button.type = "button";
    button.addEventListener("click", function () {
      downloadSummary(message.text);
    });
    node.appendChild(button);
  }

  // --- the summary as a page to print or keep ------------------------------------------------

  // A standalone HTML page: the summary's lines as the bot wrote them (title, what was
  // reported, each answer, the result, the "not a diagnosis" line), as text nodes, never HTML.
  function summaryPage(text) {
    const doc = document.implementation.createHTMLDocument("");
    doc.documentElement.lang = "en";
    const charset = doc.createElement("meta");
    charset.setAttribute("charset", "utf-8");
    doc.head.insertBefore(charset, doc.head.firstChild);
    const policy = doc.createElement("meta");
    policy.httpEquiv = "Content-Security-Policy";
    policy.content = "default-src 'none'; style-src 'unsafe-inline'";
    doc.head.appendChild(policy);
    const style = doc.createElement("style");
    style.textContent = [
      "body { font: 12pt/1.5 system-ui, 'Segoe UI', Arial, sans-serif; color: #000;",
      "  max-width: 42rem; margin: 2rem auto; padding: 0 1rem; }",
      "h1 { font-size: 16pt; margin: 0 0 1rem; }",
      "ul { padding-left: 1.4rem; } li { margin: 0.2rem 0; }",
      ".footer { margin-top: 1.5rem; padding-top: 0.75rem; border-top: 1px solid #000; }",
      ".print-hint { color: #444; font-size: 10pt; }",
      "@media print { .print-hint { display: none; } body { margin: 0; } }",
    ].join("\n");
    doc.head.appendChild(style);

    const lines = text.split("\n").map(function (line) {
      return line.trim();
    }).filter(Boolean);
    doc.title = lines[0] || "Summary";
    const main = doc.createElement("main");
    const hint = doc.createElement("p");
    hint.className = "print-hint";
    hint.textContent =
      "To print this page, or keep it as a PDF, use your browser's Print command (Ctrl+P, or ⌘P on a Mac).";
    main.appendChild(hint);
    const heading = doc.createElement("h1");
    heading.textContent = lines[0] || "Summary";
    main.appendChild(heading);
    let list = null;
    lines.slice(1).forEach(function (line, index, rest) {
      if (line.startsWith("- ")) {
        if (!list) {
          list = doc.createElement("ul");
          main.appendChild(list);
        }
        const item = doc.createElement("li");
        item.textContent = line.slice(2);
        list.appendChild(item);
        return;
      }
      list = null;
      const paragraph = doc.createElement("p");
      if (index === rest.length - 1) paragraph.className = "footer";
      paragraph.textContent = line;
      main.appendChild(paragraph);
    });
    doc.body.appendChild(main);
    return "<!doctype html>\n" + doc.documentElement.outerHTML + "\n";
  }

  function summaryFileName(text) {
    const dated = /\((\d{4}-\d{2}-\d{2})\)/.exec(text.split("\n")[0] || "");
    const day = dated ? dated[1] : new Date().toISOString().slice(0, 10);
    return "sciatica-summary-" + day + ".html";
  }

  function downloadSummary(text) {
    const blob = new Blob([summaryPage(text)], { type: "text/html;charset=utf-8" });
    const url = URL.createObjectURL(blob);
    const link = element("a");
    link.href = url;
    link.download = summaryFileName(text);
    link.hidden = true;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () {
      URL.revokeObjectURL(url);
    }, 60000);
  }

  function renderReplies(replies) {
    repliesBox.textContent = "";
    if (!replies || !replies.length) {
      repliesBox.hidden = true;
      return;
    }
    replies.forEach(function (reply) {
      const button = element("button", "", reply.title);
      button.type = "button";
      button.addEventListener("click", function () {
        answeredByReply = true;
        send(reply.payload, reply.title);
        input.focus();
      });
      repliesBox.appendChild(button);
    });
    repliesBox.hidden = false;
  }

  function scrollToEnd() {
    transcript.scrollTop = transcript.scrollHeight;
  }

  function renderAll() {
    transcript.querySelectorAll(".msg").forEach(function (node) {
      node.remove();
    });
    state.messages.forEach(renderMessage);
    const last = state.messages[state.messages.length - 1];
    renderReplies(last && last.from === "bot" ? last.replies : null);
    scrollToEnd();
  }

  function lastBotMessage() {
    const last = state.messages[state.messages.length - 1];
    if (!last || last.from !== "bot") return null;
    const nodes = transcript.querySelectorAll(".msg");
    return { message: last, node: nodes[nodes.length - 1] };
  }

  function setStatus(text) {
    statusLine.textContent = text;
  }

  function showTyping(on) {
    clearTimeout(typingTimer);
    typing.hidden = !on;
    if (on) {
      typingTimer = setTimeout(function () {
        typing.hidden = true;
      }, TYPING_TIMEOUT_MS);
    }
  }

  // --- what the bot sends -------------------------------------------------------------------

  function cleanReplies(data) {
    const raw = Array.isArray(data.quick_replies) ? data.quick_replies : data.buttons;
    if (!Array.isArray(raw)) return null;
    const replies = raw
      .filter(function (r) {
        return r && typeof r.title === "string" && typeof r.payload === "string";
      })
      .map(function (r) {
        return { title: r.title, payload: r.payload };
      });
    return replies.length ? replies : null;
  }

  function cleanSources(list) {
    if (!Array.isArray(list)) return [];
    return list
      .filter(function (s) {
        return s && typeof s.document === "string" && DOC_ID.test(s.document);
      })
      .map(function (s) {
        const title = typeof s.title === "string" && s.title ? s.title : s.document;
        return { title: title, document: s.document };
      });
  }

  function onBotMessage(data) {
    if (!data || typeof data !== "object") return;
    if (data.custom && typeof data.custom === "object") {
      onPayload(data.custom);
    }
    if (typeof data.text === "string" && data.text.trim()) {
      showTyping(false);
      const message = { from: "bot", text: data.text };
      const replies = cleanReplies(data);
      if (replies) message.replies = replies;
      state.messages.forEach(function (m) {
        delete m.replies;
      });
      state.messages.push(message);
      renderMessage(message);
      renderReplies(replies);
      if (replies && answeredByReply && document.activeElement === input && !input.value) {
        repliesBox.querySelector("button").focus();
      }
      save();
      scrollToEnd();
    }
  }

  function onPayload(payload) {
    const target = lastBotMessage();
    if (payload.type === "triage" && typeof payload.level === "string") {
      if (target && LEVEL_LABELS[payload.level]) {
        target.message.level = payload.level;
        applyLevel(target.node, payload.level);
        save();
      }
    } else if (payload.type === "sources") {
      const sources = cleanSources(payload.sources);
      if (target && sources.length) {
        target.message.sources = sources;
        renderSources(target.node, sources);
        save();
        scrollToEnd();
      }
    } else if (payload.type === "summary") {
      if (target) {
        target.message.summary = true;
        renderSummaryDownload(target.node, target.message);
        save();
        scrollToEnd();
      }
    } else if (payload.type === "forgotten") {
      forgetHere();
    }
  }

  // The bot deleted the conversation: drop this tab's copy too, keeping only its last words
  // on screen (they are not stored).
  function forgetHere() {
    const target = lastBotMessage();
    clearStored();
    state = emptyState();
    ready = false;
    transcript.querySelectorAll(".msg").forEach(function (node) {
      if (!target || node !== target.node) node.remove();
    });
    renderReplies(null);
  }

  // --- what the person sends ----------------------------------------------------------------

  function send(text, shown) {
    const message = text.trim();
    if (!message) return;
    if (message.length > MAX_CHARS) {
      setStatus("That message is too long: please keep it under " + MAX_CHARS + " characters.");
      return;
    }
    state.messages.forEach(function (m) {
      delete m.replies;
    });
    state.messages.push({ from: "user", text: shown || message });
    save();
    renderMessage({ from: "user", text: shown || message });
    renderReplies(null);
    scrollToEnd();
    showTyping(true);
    if (ready) {
      emit(message);
    } else {
      pending.push(message);
    }
  }

  function emit(message) {
    socket.emit("user_uttered", { message: message, session_id: state.sessionId });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    answeredByReply = false;
    const text = input.value;
    input.value = "";
    send(text);
  });

  forgetButton.addEventListener("click", function () {
    answeredByReply = false;
    send("forget me", "Please delete this conversation.");
    input.focus();
  });

  summaryButton.addEventListener("click", function () {
    answeredByReply = false;
    send(SUMMARY_REQUEST, "Summary for my doctor");
    input.focus();
  });

  // --- in another website's frame -----------------------------------------------------------

  // The messages say nothing about the conversation, so any parent may get them; only the
  // origins the bot allows can frame this page at all (frame-ancestors).
  if (window.parent !== window) {
    document.documentElement.classList.add("embedded");
    window.addEventListener("message", function (event) {
      const data = event.data;
      if (event.source !== window.parent || !data || data.source !== EMBED_MESSAGES) return;
      if (data.type === "focus") input.focus();
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        window.parent.postMessage({ source: EMBED_MESSAGES, type: "close" }, "*");
      }
    });
    window.parent.postMessage({ source: EMBED_MESSAGES, type: "ready" }, "*");
  }

  // --- the socket ---------------------------------------------------------------------------

  renderAll();

  if (typeof window.io !== "function") {
    setStatus("The chat could not load. Please try again later.");
    return;
  }

  // The page is served by the bot, so the socket goes to the page's own origin.
  const socket = window.io({ path: "/socket.io/" });

  socket.on("connect", function () {
    setStatus("");
    socket.emit("session_request", { session_id: state.sessionId });
  });

  socket.on("session_confirm", function (sessionId) {
    if (typeof sessionId !== "string") return;
    if (state.sessionId && state.sessionId !== sessionId) {
      // The bot started a new conversation: what is shown belongs to the old one.
      state = emptyState();
      renderAll();
    }
    state.sessionId = sessionId;
    save();
    ready = true;
    const queued = pending;
    pending = [];
    queued.forEach(emit);
  });

  socket.on("bot_uttered", onBotMessage);

  socket.on("disconnect", function () {
    ready = false;
    setStatus("Connection lost. Trying to reconnect…");
  });

  socket.on("connect_error", function () {
    ready = false;
    setStatus("Can't reach the helper right now. Trying again…");
  });
})();
