// Switchboard web chat. All customer and agent text is inserted with textContent, never as HTML.
// The conversation id and token live in this tab's sessionStorage: a reload resumes the
// conversation, and nothing about the customer ever goes into a URL.
(() => {
  "use strict";
  const KEY = "switchboard.chat";
  const AGENTS = {
    identity: "Identity check", billing: "Billing", payment: "Payments", support: "Support",
    escalation: "Customer care", supervisor: "Northwind",
  };
  const $ = (id) => document.getElementById(id);
  const log = $("log"), activity = $("activity"), form = $("composer"), input = $("message");
  const sendButton = $("send"), connection = $("connection");
  const greeting = document.body.dataset.greeting || "";
  let greetingItem = null;

  let convo = load();
  let lastSeq = 0;
  let seen = new Set();
  let stream = null;
  let retryMs = 1000;
  let retryTimer = null;
  let humanShown = false;
  let busy = false;
  let sendWhenFree = false; // Send was pressed while an answer was coming

  function load() {
    try { return JSON.parse(sessionStorage.getItem(KEY)); } catch { return null; }
  }
  function save() { sessionStorage.setItem(KEY, JSON.stringify(convo)); }

  async function api(method, path, body) {
    const headers = { "Content-Type": "application/json" };
    if (convo) headers.Authorization = "Bearer " + convo.token;
    const response = await fetch(path, {
      method, headers, body: body ? JSON.stringify(body) : undefined, cache: "no-store", credentials: "omit",
    });
    let data = null;
    try { data = await response.json(); } catch { data = null; }
    if (!response.ok) {
      const error = new Error((data && data.error && data.error.message) || "The service did not answer (" + response.status + ").");
      error.status = response.status;
      throw error;
    }
    return data;
  }

  function label(role, agent) {
    if (role === "customer") return "You";
    if (role === "human") return "Team member";
    return AGENTS[agent] || (agent ? agent.charAt(0).toUpperCase() + agent.slice(1) : "Northwind");
  }

  function addMessage(entry, extraClass) {
    const item = document.createElement("li");
    item.className = "msg " + entry.role + (extraClass ? " " + extraClass : "");
    if (entry.seq) item.dataset.seq = String(entry.seq);
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = label(entry.role, entry.agent);
    if (entry.channel === "voice") {
      const tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = "by phone";
      who.append(tag);
    }
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = entry.text;
    item.append(who, bubble);
    log.append(item);
    item.scrollIntoView({ block: "end" });
    return item;
  }

  function addNotice(text, kind) {
    const item = document.createElement("li");
    item.className = "notice" + (kind ? " " + kind : "");
    item.textContent = text;
    log.append(item);
  }

  function render(entry) {
    if (!entry || seen.has(entry.seq)) return;
    seen.add(entry.seq);
    lastSeq = Math.max(lastSeq, entry.seq);
    if (entry.role === "customer") {
      const pending = [...log.querySelectorAll(".msg.sending")].find((el) => el.querySelector(".bubble").textContent === entry.text);
      if (pending) pending.remove();
    }
    // The notice that an automated assistant answers is already on screen as the greeting.
    if (entry.role === "system" && entry.skill === "ai-disclosure") {
      if (greetingItem) greetingItem.querySelector(".bubble").textContent = entry.text;
      return;
    }
    // A takeover and a hand-back are marked by system entries: shown as notices, not as messages.
    if (entry.role === "system" && entry.skill === "human-joined") {
      humanShown = true;
      addNotice(entry.text, "human");
      setActivity("A member of our team is with you.", "escalated");
      return;
    }
    if (entry.role === "system" && entry.skill === "human-left") {
      humanShown = false;
      addNotice(entry.text, "");
      setActivity("", "");
      return;
    }
    if (entry.role === "human" && !humanShown) {
      humanShown = true;
      addNotice("A member of our team has joined the conversation.", "human");
    }
    addMessage(entry);
  }

  function setActivity(text, kind) {
    activity.className = "activity" + (kind ? " " + kind : "");
    activity.textContent = "";
    if (!text) return;
    const span = document.createElement("span");
    if (kind === "working") span.className = "dots";
    span.textContent = text;
    activity.append(span);
  }

  function showWorking(event) {
    setActivity(event && event.channel === "voice" ? "Working on your phone request" : "Our team is working on it", "working");
  }

  function showOutcome(outcome) {
    const status = (outcome && outcome.status) || "";
    const approval = (outcome && (outcome.approval_pending || (outcome.data && outcome.data.approval_pending))) || status.includes("approval");
    if (approval) setActivity("Waiting for approval from a member of our team. The result will appear here.", "approval");
    else if (status === "escalated") setActivity("A member of our team will reply here shortly.", "escalated");
    else if (status === "with-human") setActivity("A member of our team is with you.", "escalated");
    else if (status === "unavailable") setActivity("Part of our service is slow to answer right now.", "");
    else setActivity("", "");
  }

  function resetView() {
    log.textContent = "";
    seen = new Set();
    lastSeq = 0;
    humanShown = false;
    setActivity("", "");
    greetingItem = addMessage({ role: "agent", agent: "supervisor", text: greeting });
  }

  async function sync() {
    const state = await api("GET", "/api/conversations/" + encodeURIComponent(convo.id));
    state.transcript.forEach(render);
    if (state.status === "escalated" && !activity.textContent) showOutcome({ status: humanShown ? "with-human" : "escalated" });
    return state;
  }

  function closeStream() {
    if (stream) stream.close();
    stream = null;
  }

  function scheduleStream() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(openStream, retryMs);
    retryMs = Math.min(retryMs * 2, 15000);
  }

  async function openStream() {
    if (!convo || stream) return;
    let ticket;
    try {
      ticket = await api("POST", "/api/conversations/" + encodeURIComponent(convo.id) + "/events/ticket");
    } catch (error) {
      connection.textContent = "Reconnecting…";
      if (error.status === 401) return restart();
      return scheduleStream();
    }
    if (!convo || stream) return;
    const url = "/api/conversations/" + encodeURIComponent(convo.id) + "/events?ticket=" +
      encodeURIComponent(ticket.ticket) + "&after=" + lastSeq;
    const source = new EventSource(url);
    stream = source;
    source.addEventListener("open", () => { retryMs = 1000; connection.textContent = "Support chat · connected"; });
    source.addEventListener("entry", (event) => render(JSON.parse(event.data)));
    source.addEventListener("working", (event) => showWorking(JSON.parse(event.data)));
    source.addEventListener("idle", (event) => showOutcome(JSON.parse(event.data)));
    // The server ends each stream after a while; carry on from the last entry seen.
    source.addEventListener("bye", () => { closeStream(); openStream(); });
    source.onerror = () => {
      if (stream !== source) return;
      closeStream();
      connection.textContent = "Reconnecting…";
      scheduleStream();
    };
  }

  async function startConversation() {
    convo = null;
    const started = await api("POST", "/api/conversations", { channel: "chat" });
    convo = { id: started.conversation_id, token: started.token };
    save();
    openStream();
  }

  function restart() {
    closeStream();
    clearTimeout(retryTimer);
    sessionStorage.removeItem(KEY);
    convo = null;
    $("phone-panel").hidden = true;
    resetView();
    connection.textContent = "Support chat";
    input.focus();
  }

  // While an answer is coming the Send button is marked unavailable, not disabled: a disabled
  // button leaves the tab order, so a keyboard user tabbing to it from the next message lands
  // nowhere. Pressed meanwhile, it sends the message box as soon as the answer has arrived.
  function setBusy(value) {
    busy = value;
    sendButton.setAttribute("aria-disabled", String(value));
  }

  async function send(text) {
    setBusy(true);
    let failed = false;
    const pending = addMessage({ role: "customer", text }, "sending");
    input.value = "";
    try {
      if (!convo) await startConversation();
      showWorking();
      const outcome = await api("POST", "/api/conversations/" + encodeURIComponent(convo.id) + "/turns", { text });
      await sync();
      showOutcome(outcome);
    } catch (error) {
      failed = true;
      pending.remove();
      // Back in the box to send again, ahead of anything typed while it was on its way.
      input.value = input.value.trim() ? text + "\n" + input.value : text;
      setActivity("Your message was not sent: " + error.message, "");
    } finally {
      setBusy(false);
      // Bring the caret back for the next message, unless the customer has moved on to another
      // control while the answer was coming (a key pressed there must not land in the message box).
      const focused = document.activeElement;
      if (!focused || focused === document.body || focused === input || focused === sendButton) input.focus();
      const queued = sendWhenFree && !failed && input.value.trim();
      sendWhenFree = false;
      if (queued) send(queued);
    }
  }

  async function continueByPhone() {
    const panel = $("phone-panel"), text = $("phone-text");
    panel.hidden = false;
    text.textContent = "Getting a code…";
    try {
      if (!convo) await startConversation();
      const link = await api("POST", "/api/conversations/" + encodeURIComponent(convo.id) + "/phone-link");
      const grouped = link.code.slice(0, 4) + " " + link.code.slice(4);
      text.textContent = "";
      const intro = document.createElement("span");
      intro.textContent = "Call " + (link.phone_number || "our support line") + " and, when asked, key in or say this code: ";
      const code = document.createElement("span");
      code.className = "code";
      code.textContent = grouped;
      const after = document.createElement("span");
      after.textContent = " It works once, for " + Math.round(link.expires_in / 60) +
        " minutes. We'll carry on where we left off, without checking who you are again while your check is valid.";
      text.append(intro, document.createElement("br"), code, document.createElement("br"), after);
    } catch (error) {
      text.textContent = "We couldn't get a code: " + error.message;
    }
    $("phone-close").focus();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (busy) {
      sendWhenFree = true;
      setActivity("Your message will be sent as soon as the answer arrives.", "");
      return;
    }
    send(text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  // Starting again discards the chat in this window, so a conversation in progress is only
  // dropped after the customer says so; the safe choice has focus.
  function askToRestart() {
    if (!convo) { restart(); return; }
    closePhonePanel(false);
    $("restart-confirm").hidden = false;
    $("restart-keep").focus();
  }
  function closeRestartConfirm() {
    $("restart-confirm").hidden = true;
    $("restart").focus();
  }
  function closePhonePanel(refocus = true) {
    $("phone-panel").hidden = true;
    if (refocus) $("phone").focus();
  }

  $("restart").addEventListener("click", askToRestart);
  $("restart-keep").addEventListener("click", closeRestartConfirm);
  $("restart-yes").addEventListener("click", () => { $("restart-confirm").hidden = true; restart(); });
  $("phone").addEventListener("click", continueByPhone);
  $("phone-close").addEventListener("click", () => closePhonePanel());
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    if (!$("phone-panel").hidden) closePhonePanel();
    else if (!$("restart-confirm").hidden) closeRestartConfirm();
  });

  resetView();
  if (convo) {
    sync().then(openStream).catch((error) => {
      if (error.status === 401 || error.status === 404) restart();
      else { connection.textContent = "Reconnecting…"; scheduleStream(); }
    });
  }
  input.focus();
})();
