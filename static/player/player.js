/* Cadenza's web player: plain JavaScript on the public API (/api/v1), no build step.
 *
 * One <audio> element plays the queue, which is the listener's personal playlist. The session
 * (access + refresh token) and the events not yet delivered live in sessionStorage, so a reload
 * keeps both; a 401 refreshes the access token once (one refresh in flight, shared) and retries
 * the request; an audio error fetches the track again for fresh signed URLs and resumes. */
"use strict";

const $ = (id) => document.getElementById(id);
const KEYS = ["C", "D♭", "D", "E♭", "E", "F", "F♯", "G", "A♭", "A", "B♭", "B"];
const TERMINAL = new Set(["published", "failed", "rejected"]);
const STORE = sessionStorage;

// ------------------------------------------------------------------------------------------------
// Words for the listener
// ------------------------------------------------------------------------------------------------
function announce(message, { error = false } = {}) {
  const status = $("status");
  status.classList.toggle("is-error", error);
  status.textContent = "";
  // a fresh text node, so screen readers announce a repeated message too
  requestAnimationFrame(() => { status.textContent = message; });
}

function humanName(name) {
  return String(name).replace(/_/g, " ").replace(/^\w/, (c) => c.toUpperCase());
}

function flatten(value) {
  if (value == null) return [];
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(flatten);
  if (typeof value === "object") return Object.entries(value).flatMap(([k, v]) => flatten(v).map((m) => `${humanName(k)}: ${m}`));
  return [String(value)];
}

class ApiError extends Error {
  constructor(status, code, message, fields = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields || {};
  }

  static from(status, body) {
    const error = body && body.error;
    if (error && typeof error.message === "string") return new ApiError(status, error.code, error.message, error.fields);
    return new ApiError(status, "http", `Cadenza answered ${status}; please try again.`);
  }

  /** The message and, field by field, what is wrong, as sentences. */
  words() {
    const details = Object.entries(this.fields).flatMap(([field, why]) =>
      flatten(why).map((w) => `${humanName(field)}: ${w}`));
    return details.length ? `${this.message} ${details.join(" ")}` : this.message;
  }
}

// ------------------------------------------------------------------------------------------------
// The session and the API
// ------------------------------------------------------------------------------------------------
const session = {
  get access() { return STORE.getItem("cadenza.access"); },
  get refresh() { return STORE.getItem("cadenza.refresh"); },
  set(access, refresh) {
    STORE.setItem("cadenza.access", access);
    if (refresh) STORE.setItem("cadenza.refresh", refresh);
  },
  clear() {
    for (const key of Object.keys(STORE)) if (key.startsWith("cadenza.")) STORE.removeItem(key);
  },
};

let refreshing = null;

/** A new access token from the refresh token; one request in flight whoever asks (the refresh
 * token rotates: a second request with the old one would be refused). */
function refreshAccess() {
  if (!refreshing) {
    refreshing = (async () => {
      const refresh = session.refresh;
      if (!refresh) return false;
      try {
        const response = await fetch("/api/v1/auth/token/refresh", {
          method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ refresh }),
        });
        if (!response.ok) return false;
        const body = await response.json();
        session.set(body.access, body.refresh);
        return true;
      } catch {
        return null; // offline: neither refreshed nor refused
      }
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}

async function api(path, { method = "GET", body, retried = false, keepalive = false } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (session.access) headers.Authorization = `Bearer ${session.access}`;
  let response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method, headers, keepalive, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "offline", "Cadenza cannot be reached: check the connection.");
  }
  if (response.status === 401 && !retried && session.refresh && !path.startsWith("/auth/")) {
    const refreshed = await refreshAccess();
    if (refreshed) return api(path, { method, body, retried: true });
    if (refreshed === false) {
      signedOut("Your session has ended: sign in again.");
      throw new ApiError(401, "signed_out", "Your session has ended: sign in again.");
    }
    throw new ApiError(0, "offline", "Cadenza cannot be reached: check the connection.");
  }
  const text = response.status === 204 ? "" : await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!response.ok) throw ApiError.from(response.status, data);
  return data;
}

function uuid4() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16)); // plain http on a LAN address has no randomUUID
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// ------------------------------------------------------------------------------------------------
// Events: an outbox kept across reloads, delivered in batches, retried until the server has them
// ------------------------------------------------------------------------------------------------
const outbox = {
  items: JSON.parse(STORE.getItem("cadenza.outbox") || "[]"),
  sending: false,
  timer: null,
  save() {
    STORE.setItem("cadenza.outbox", JSON.stringify(this.items));
    document.body.dataset.outbox = String(this.items.length);
  },
  add(track, kind, positionS) {
    this.items.push({
      client_event_id: uuid4(), track, kind, occurred_at: new Date().toISOString(),
      position_ms: Math.max(0, Math.round((Number.isFinite(positionS) ? positionS : 0) * 1000)),
    });
    this.save();
    this.flush();
  },
  async flush() {
    if (this.sending || !this.items.length || !session.access) return;
    this.sending = true;
    clearTimeout(this.timer);
    const batch = this.items.slice(0, 500);
    let retry = false;
    try {
      const result = await api("/me/events", { method: "POST", body: { events: batch } });
      const sent = new Set(batch.map((e) => e.client_event_id));
      this.items = this.items.filter((e) => !sent.has(e.client_event_id));
      const refused = result.results.filter((r) => r.status === "rejected");
      if (refused.length) announce(`The server refused a ${batch[refused[0].index].kind}: ${humanName(refused[0].field)}: ${refused[0].reason}`, { error: true });
    } catch (error) {
      if (error.status === 0 || error.status === 429 || error.status >= 500) retry = true;
      else if (error.code !== "signed_out") {
        this.items = this.items.slice(batch.length); // a batch the server will never take: say so, drop it
        announce(error.words(), { error: true });
      }
    } finally {
      this.sending = false;
      this.save();
    }
    if (this.items.length) this.timer = setTimeout(() => this.flush(), retry ? 5000 : 0);
  },
};

// ------------------------------------------------------------------------------------------------
// Tracks and the queue
// ------------------------------------------------------------------------------------------------
/** One shape for a track whether it came from the playlist (streams) or the track page (renditions). */
function normalTrack(t, liked) {
  const m = t.measured || {};
  return {
    id: t.id, title: t.title, style: t.style, mood: t.mood || null, duration: t.duration_s,
    tempo: t.tempo ?? m.tempo ?? null, key: t.key ?? m.key_tonic ?? null, mode: t.mode ?? m.mode ?? null,
    streams: (t.streams || t.renditions || []).map((s) => ({ url: s.url, mime: s.mime_type, kbps: s.bitrate_kbps, format: s.format })),
    liked: liked ?? t.liked ?? "none",
  };
}

function describe(t) {
  const parts = [t.style];
  if (t.mood) parts.push(t.mood);
  if (t.key !== null && t.mode) parts.push(`${KEYS[t.key]} ${t.mode}`);
  if (t.tempo) parts.push(`${Math.round(t.tempo)} BPM`);
  if (t.duration) parts.push(clock(Math.round(t.duration)));
  return parts.join(" · ");
}

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

const MIME_ORDER = ["audio/mp4", "audio/aac", "audio/ogg", "audio/webm", "audio/mpeg", "audio/flac"];

/** The stream this browser plays best: a lossy format near 128 kb/s, else whatever it can play. */
function pickStream(streams) {
  const audio = $("audio");
  const playable = streams.filter((s) => s.url && audio.canPlayType(s.mime) !== "");
  const rank = (s) => {
    const order = MIME_ORDER.indexOf(s.mime);
    return (order < 0 ? MIME_ORDER.length : order) * 1000 + Math.abs((s.kbps || 1000) - 128);
  };
  return playable.sort((a, b) => rank(a) - rank(b))[0] || null;
}

const player = {
  queue: [], // {kind: "track"|"pending", track, job, reason}
  index: -1,
  renewals: 0, // fresh URLs asked for the current track since it last played
  resumeAt: 0,
  announcedPlay: false,
  wanted: false, // the listener wants sound (an error on the way should not leave it paused)

  get current() { return this.queue[this.index] || null; },

  setQueue(items, { keepCurrent = true } = {}) {
    const current = keepCurrent ? this.current : null;
    const seen = new Set(current && current.track ? [current.track.id] : []);
    const rest = items.filter((e) => e.kind !== "track" || !seen.has(e.track.id));
    this.queue = current ? [current, ...rest] : rest;
    this.index = current ? 0 : -1;
    renderQueue();
  },

  append(items) {
    const have = new Set(this.queue.map((e) => (e.kind === "track" ? e.track.id : e.job.id)));
    this.queue.push(...items.filter((e) => !have.has(e.kind === "track" ? e.track.id : e.job.id)));
    renderQueue();
  },

  load(index, { at = 0, autoplay = true } = {}) {
    const entry = this.queue[index];
    if (!entry || entry.kind !== "track") return false;
    const stream = pickStream(entry.track.streams);
    if (!stream) {
      announce(`This browser cannot play any format of “${entry.track.title}”.`, { error: true });
      return false;
    }
    this.index = index;
    this.renewals = 0;
    this.resumeAt = at;
    this.announcedPlay = at > 0;
    const audio = $("audio");
    audio.src = stream.url;
    if (at) audio.currentTime = at;
    rememberPosition(entry.track.id, at);
    renderNow();
    renderQueue();
    this.wanted = autoplay;
    if (autoplay) this.play();
    return true;
  },

  play() {
    const audio = $("audio");
    if (!this.current) return this.next({ skipping: false });
    this.wanted = true;
    audio.play().catch((error) => {
      if (error.name === "NotAllowedError") announce("Press play to start.");
    });
    return true;
  },

  /** The next playable track; at the end of the queue, more from the playlist. */
  async next({ skipping }) {
    const audio = $("audio");
    const from = this.current;
    if (from && from.kind === "track" && skipping) outbox.add(from.track.id, "skip", audio.currentTime);
    for (let i = this.index + 1; i < this.queue.length; i += 1) {
      if (this.queue[i].kind === "track" && this.load(i)) return true;
    }
    const more = await fetchPlaylist().catch(reportError);
    if (more) {
      this.append(more);
      for (let i = this.index + 1; i < this.queue.length; i += 1) {
        if (this.queue[i].kind === "track" && this.load(i)) return true;
      }
    }
    audio.pause();
    announce("That was the last track in your queue: compose one, or refresh.");
    return false;
  },

  previous() {
    const audio = $("audio");
    if (audio.currentTime > 3 || this.index <= 0) {
      audio.currentTime = 0;
      return;
    }
    for (let i = this.index - 1; i >= 0; i -= 1) {
      if (this.queue[i].kind === "track" && this.load(i)) return;
    }
  },

  /** The signed URL expired (or the network dropped): fetch the track again and carry on. */
  async renew() {
    const entry = this.current;
    if (!entry || entry.kind !== "track" || this.renewals >= 2) {
      if (entry) announce(`“${entry.track.title}” cannot be played just now.`, { error: true });
      return;
    }
    this.renewals += 1;
    const audio = $("audio");
    const at = audio.currentTime || this.resumeAt || 0;
    const wasPlaying = !audio.paused || this.wanted;
    try {
      const fresh = normalTrack(await api(`/tracks/${entry.track.id}`));
      entry.track = fresh;
      const stream = pickStream(fresh.streams);
      if (!stream) return;
      audio.src = stream.url;
      audio.currentTime = at;
      this.resumeAt = at;
      renderNow();
      if (wasPlaying) audio.play().catch(() => {});
    } catch (error) {
      if (error.status === 404) {
        announce(`“${entry.track.title}” is no longer available.`, { error: true });
        this.next({ skipping: false });
      } else reportError(error);
    }
  },

  rate(kind) {
    const entry = this.current;
    if (!entry || entry.kind !== "track") return;
    const was = entry.track.liked;
    const target = kind === "like" ? "liked" : "disliked";
    const undo = kind === "like" ? "unlike" : "undislike";
    entry.track.liked = was === target ? "none" : target;
    outbox.add(entry.track.id, was === target ? undo : kind, $("audio").currentTime);
    renderNow();
    renderQueue();
    const words = { liked: "Liked", disliked: "Disliked", none: was === "liked" ? "Like taken back" : "Dislike taken back" };
    announce(`${words[entry.track.liked]}: “${entry.track.title}”.`);
  },
};

function rememberPosition(trackId, at) {
  STORE.setItem("cadenza.now", JSON.stringify({ track: trackId, at }));
}

function entryFromItem(item) {
  if (item.kind === "track") return { kind: "track", track: normalTrack(item.track, item.liked), reason: item.reason };
  return { kind: "pending", job: item.job, reason: item.reason };
}

async function fetchPlaylist() {
  const body = await api("/me/playlist");
  return body.items.map(entryFromItem);
}

// ------------------------------------------------------------------------------------------------
// Rendering
// ------------------------------------------------------------------------------------------------
const RATING_WORDS = { liked: "♥ liked", disliked: "disliked", none: "" };

function renderQueue() {
  const list = $("queue");
  list.replaceChildren();
  player.queue.forEach((entry, i) => {
    const li = document.createElement("li");
    if (entry.kind === "track") {
      const t = entry.track;
      li.dataset.track = t.id;
      li.classList.toggle("current", i === player.index);
      if (i === player.index) li.setAttribute("aria-current", "true");
      const title = document.createElement("p");
      title.className = "title";
      title.textContent = t.title;
      const meta = document.createElement("p");
      meta.className = "meta";
      meta.textContent = describe(t);
      const rating = document.createElement("span");
      rating.className = "rating";
      rating.textContent = RATING_WORDS[t.liked] ? ` · ${RATING_WORDS[t.liked]}` : "";
      meta.append(rating);
      const reason = document.createElement("p");
      reason.className = "reason";
      reason.textContent = entry.reason || "";
      const button = document.createElement("button");
      button.type = "button";
      button.className = "ghost";
      button.textContent = i === player.index ? "Playing" : "Play";
      button.setAttribute("aria-label", `Play “${t.title}”`);
      button.onclick = () => player.load(i);
      li.append(title, meta, reason, button);
    } else {
      const job = entry.job;
      li.className = "pending";
      li.dataset.job = job.id;
      const title = document.createElement("p");
      title.className = "title";
      title.textContent = `Composing a ${job.style} piece for you`;
      const meta = document.createElement("p");
      meta.className = "meta";
      meta.textContent = `${humanName(job.status)} · ${job.progress}%`;
      const bar = document.createElement("progress");
      bar.max = 100;
      bar.value = job.progress;
      bar.setAttribute("aria-label", `Composing a ${job.style} piece: ${job.progress}%`);
      li.append(title, meta, bar);
    }
    list.append(li);
  });
  $("queue-empty").hidden = player.queue.length > 0;
}

function renderNow() {
  const entry = player.current;
  const like = $("like");
  const dislike = $("dislike");
  if (!entry || entry.kind !== "track") {
    $("now-title").textContent = "Nothing playing";
    $("now-reason").textContent = "";
    like.disabled = dislike.disabled = true;
    return;
  }
  const t = entry.track;
  $("now-title").textContent = t.title;
  $("now-reason").textContent = entry.reason || describe(t);
  like.disabled = dislike.disabled = false;
  like.setAttribute("aria-pressed", String(t.liked === "liked"));
  dislike.setAttribute("aria-pressed", String(t.liked === "disliked"));
  like.setAttribute("aria-label", t.liked === "liked" ? `Liked “${t.title}” (press to take back)` : `Like “${t.title}”`);
  dislike.setAttribute("aria-label", t.liked === "disliked" ? `Disliked “${t.title}” (press to take back)` : `Dislike “${t.title}”`);
  document.title = `${t.title} — Cadenza`;
}

function reportError(error) {
  if (error instanceof ApiError) {
    if (error.code !== "signed_out") announce(error.words(), { error: true });
  } else {
    announce("Something went wrong in the player; reload the page.", { error: true });
    console.error(error); // eslint-disable-line no-console
  }
  return null;
}

// ------------------------------------------------------------------------------------------------
// Pending tracks: their progress, and the track once published
// ------------------------------------------------------------------------------------------------
let pollTimer = null;

async function pollPending() {
  clearTimeout(pollTimer);
  const pending = player.queue.filter((e) => e.kind === "pending");
  for (const entry of pending) {
    try {
      const job = await api(`/generations/${entry.job.id}`);
      await jobUpdated(entry, job);
    } catch (error) {
      if (error.status === 404) player.queue.splice(player.queue.indexOf(entry), 1);
      else if (error.status !== 0) reportError(error);
    }
  }
  renderQueue();
  if (player.queue.some((e) => e.kind === "pending")) pollTimer = setTimeout(pollPending, 2000);
}

async function jobUpdated(entry, job) {
  entry.job = { ...entry.job, status: job.status, progress: job.progress, style: job.style };
  if (!TERMINAL.has(job.status)) return;
  const at = player.queue.indexOf(entry);
  if (job.status === "published" && job.track) {
    const track = normalTrack(await api(`/tracks/${job.track.id}`));
    player.queue.splice(at, 1, { kind: "track", track, reason: entry.reason || "composed for you just now" });
    announce(`Ready: “${track.title}” is in your queue.`);
  } else {
    player.queue.splice(at, 1);
    if (at < player.index) player.index -= 1;
    announce(`A piece could not be composed: ${job.error ? job.error.message : job.status}.`, { error: true });
  }
}

// ------------------------------------------------------------------------------------------------
// Compose on demand: one job at a time (the button stays disabled until it ends, across reloads)
// ------------------------------------------------------------------------------------------------
async function compose(event) {
  event.preventDefault();
  const button = $("compose-submit");
  if (button.disabled) return;
  button.disabled = true; // before any await: a double click sends one request
  const form = new FormData($("compose"));
  const body = {};
  if (form.get("style")) body.style = form.get("style");
  if (form.get("mood")) body.mood = form.get("mood");
  showComposing({ status: "queued", progress: 0 });
  announce("Composing a piece for you…");
  try {
    const job = await api("/generations", { method: "POST", body });
    STORE.setItem("cadenza.job", job.id);
    await followJob(job);
  } catch (error) {
    reportError(error);
    endComposing();
  }
}

function showComposing(job) {
  $("compose-progress").hidden = false;
  $("compose-bar").value = job.progress;
  $("compose-bar").setAttribute("aria-label", `Composing: ${job.progress}%`);
  $("compose-stage").textContent = `${humanName(job.status)} · ${job.progress}%`;
  $("compose-submit").disabled = true;
}

function endComposing() {
  STORE.removeItem("cadenza.job");
  $("compose-progress").hidden = true;
  $("compose-submit").disabled = false;
}

async function followJob(job) {
  while (!TERMINAL.has(job.status)) {
    showComposing(job);
    await new Promise((ok) => setTimeout(ok, 1500));
    try {
      job = await api(`/generations/${job.id}`);
    } catch (error) {
      if (error.status !== 0) throw error; // offline: keep asking
    }
  }
  showComposing(job);
  if (job.status === "published" && job.track) {
    const track = normalTrack(await api(`/tracks/${job.track.id}`));
    player.queue.splice(player.index + 1, 0, { kind: "track", track, reason: "composed for you just now" });
    renderQueue();
    announce(`Ready: “${track.title}” plays next.`);
    if (!player.current) player.load(0);
  } else {
    announce(`The piece could not be composed: ${job.error ? job.error.message : job.status}.`, { error: true });
  }
  endComposing();
}

// ------------------------------------------------------------------------------------------------
// Preferences: an editor for every field the API's schema lists
// ------------------------------------------------------------------------------------------------
let schemaPromise = null;
const schema = () => (schemaPromise ||= fetch("/api/schema/?format=json", { headers: { Accept: "application/json" } })
  .then((r) => { if (!r.ok) throw new ApiError(r.status, "schema", "The API's schema could not be read."); return r.json(); }));

function resolve(doc, node) {
  while (node && node.$ref) node = node.$ref.split("/").slice(1).reduce((at, key) => at[key], doc);
  return node || {};
}

const PREF_LABELS = {
  styles: "Styles", moods: "Moods", tempo_min: "Slowest tempo (BPM)", tempo_max: "Fastest tempo (BPM)",
  energy: "Energy", preferred_instruments: "Instruments you like", avoided_instruments: "Instruments to avoid",
  mode: "Major or minor", length_min_s: "Shortest piece (seconds)", length_max_s: "Longest piece (seconds)",
  exploration: "Exploration (how much new music)",
};

function prefControl(doc, name, spec, value) {
  const label = PREF_LABELS[name] || humanName(name);
  const errorLine = document.createElement("p");
  errorLine.className = "field-error";
  errorLine.id = `pref-error-${name}`;
  if (spec.type === "array") {
    const items = resolve(doc, spec.items);
    const set = document.createElement("fieldset");
    set.dataset.field = name;
    set.dataset.kind = "array";
    set.setAttribute("aria-describedby", errorLine.id);
    const legend = document.createElement("legend");
    legend.textContent = label;
    const choices = document.createElement("div");
    choices.className = "choices";
    for (const option of items.enum || []) {
      const box = document.createElement("label");
      const input = document.createElement("input");
      input.type = "checkbox";
      input.value = option;
      input.checked = (value || []).includes(option);
      box.append(input, humanName(option));
      choices.append(box);
    }
    set.append(legend, choices, errorLine);
    return set;
  }
  const wrap = document.createElement("div");
  wrap.className = "field";
  wrap.dataset.field = name;
  const id = `pref-${name}`;
  const caption = document.createElement("label");
  caption.htmlFor = id;
  caption.textContent = label;
  let input;
  const choices = resolve(doc, spec).enum;
  if (choices) {
    input = document.createElement("select");
    for (const option of choices) input.add(new Option(humanName(option), option, false, option === value));
    wrap.dataset.kind = "enum";
  } else if (spec.type === "integer") {
    input = document.createElement("input");
    input.type = "number";
    input.inputMode = "numeric";
    input.step = "1";
    wrap.dataset.kind = "integer";
  } else {
    input = document.createElement("input");
    input.type = "range";
    input.step = "0.05";
    wrap.dataset.kind = "number";
    const shown = document.createElement("output");
    shown.htmlFor = id;
    shown.textContent = Number(value).toFixed(2);
    input.addEventListener("input", () => { shown.textContent = Number(input.value).toFixed(2); });
    caption.append(" ", shown);
  }
  input.id = id;
  input.name = name;
  if (spec.minimum !== undefined) input.min = spec.minimum;
  if (spec.maximum !== undefined) input.max = spec.maximum;
  if (!choices) input.value = value ?? "";
  input.setAttribute("aria-describedby", errorLine.id);
  wrap.append(caption, input, errorLine);
  return wrap;
}

async function openPreferences() {
  const toggle = $("prefs-toggle");
  const form = $("prefs");
  if (!form.hidden) {
    form.hidden = true;
    toggle.setAttribute("aria-expanded", "false");
    toggle.textContent = "Edit";
    return;
  }
  toggle.disabled = true;
  try {
    const [doc, current] = await Promise.all([schema(), api("/me/preferences")]);
    const input = doc.components.schemas.PreferencesInputRequest || doc.components.schemas.PreferencesInput;
    const fields = $("prefs-fields");
    fields.replaceChildren(...Object.entries(input.properties)
      .filter(([, spec]) => !spec.readOnly)
      .map(([name, spec]) => prefControl(doc, name, spec, current[name])));
    form.hidden = false;
    toggle.setAttribute("aria-expanded", "true");
    toggle.textContent = "Close";
    fields.querySelector("input, select")?.focus();
  } catch (error) {
    reportError(error);
  } finally {
    toggle.disabled = false;
  }
}

function preferenceValues() {
  const body = {};
  for (const node of $("prefs-fields").querySelectorAll("[data-field]")) {
    const name = node.dataset.field;
    if (node.dataset.kind === "array") body[name] = [...node.querySelectorAll("input:checked")].map((i) => i.value);
    else {
      const input = node.querySelector("input, select");
      body[name] = node.dataset.kind === "integer" ? Number.parseInt(input.value, 10)
        : node.dataset.kind === "number" ? Number(input.value) : input.value;
      if (Number.isNaN(body[name])) body[name] = null;
    }
  }
  return body;
}

async function savePreferences(event) {
  event.preventDefault();
  const button = $("prefs-save");
  button.disabled = true;
  $("prefs-error").textContent = "";
  for (const line of document.querySelectorAll(".field-error")) line.textContent = "";
  try {
    const saved = await api("/me/preferences", { method: "PUT", body: preferenceValues() });
    announce(`Preferences saved (version ${saved.version}); your queue follows them.`);
    const items = await fetchPlaylist();
    player.setQueue(items);
    pollPending();
  } catch (error) {
    if (error instanceof ApiError) {
      for (const [field, why] of Object.entries(error.fields)) {
        const line = $(`pref-error-${field}`);
        if (line) line.textContent = flatten(why).join(" ");
      }
      $("prefs-error").textContent = error.words();
    }
    reportError(error);
  } finally {
    button.disabled = false;
  }
}

// ------------------------------------------------------------------------------------------------
// Signing in and out
// ------------------------------------------------------------------------------------------------
let registering = false;

function toggleRegister() {
  registering = !registering;
  $("register-toggle").setAttribute("aria-pressed", String(registering));
  $("register-toggle").textContent = registering ? "I have an account: sign in" : "Create an account instead";
  $("sign-in-submit").textContent = registering ? "Create account" : "Sign in";
  $("sign-in-title").textContent = registering ? "Create an account" : "Sign in to listen";
  $("display-name-field").hidden = !registering;
  $("sign-in").password.autocomplete = registering ? "new-password" : "current-password";
}

async function signIn(event) {
  event.preventDefault();
  const form = $("sign-in");
  const button = $("sign-in-submit");
  const error = $("sign-in-error");
  error.textContent = "";
  const email = form.email.value.trim();
  const password = form.password.value;
  if (!email || !password) {
    error.textContent = "Enter your e-mail and password.";
    return;
  }
  button.disabled = true;
  try {
    if (registering) {
      const body = { email, password };
      if (form.display_name.value.trim()) body.display_name = form.display_name.value.trim();
      const registered = await api("/auth/register", { method: "POST", body });
      announce(registered.detail || "Account created.");
    }
    const tokens = await api("/auth/token", { method: "POST", body: { email, password } });
    session.set(tokens.access, tokens.refresh);
    form.password.value = "";
    await showPlayer();
  } catch (failure) {
    error.textContent = failure instanceof ApiError ? failure.words() : "Signing in failed; try again.";
    announce(error.textContent, { error: true });
  } finally {
    button.disabled = false;
  }
}

function signedOut(message) {
  const audio = $("audio");
  audio.pause();
  audio.removeAttribute("src");
  audio.load();
  session.clear();
  outbox.items = [];
  document.body.dataset.outbox = "0";
  player.queue = [];
  player.index = -1;
  clearTimeout(pollTimer);
  $("player-view").hidden = true;
  $("bar").hidden = true;
  $("account").hidden = true;
  $("sign-in-view").hidden = false;
  document.title = "Cadenza — music composed for you";
  if (message) announce(message);
}

async function signOut() {
  await outbox.flush();
  const refresh = session.refresh;
  if (refresh) await api("/auth/logout", { method: "POST", body: { refresh } }).catch(() => null);
  signedOut("Signed out.");
  $("sign-in").email.focus();
}

// ------------------------------------------------------------------------------------------------
// The player view
// ------------------------------------------------------------------------------------------------
async function showPlayer() {
  let me;
  try {
    me = await api("/me");
  } catch (error) {
    if (error.status === 401) signedOut();
    else reportError(error);
    return;
  }
  $("who").textContent = me.display_name || me.email;
  $("sign-in-view").hidden = true;
  $("player-view").hidden = false;
  $("bar").hidden = false;
  $("account").hidden = false;
  renderNow();
  outbox.save();
  outbox.flush();
  fillComposeChoices();
  const saved = JSON.parse(STORE.getItem("cadenza.now") || "null");
  const [items, resumed] = await Promise.all([
    fetchPlaylist().catch(reportError),
    saved ? api(`/tracks/${saved.track}`).catch(() => null) : null,
  ]);
  const entries = (items || []).filter((e) => !resumed || e.kind !== "track" || e.track.id !== resumed.id);
  if (resumed) entries.unshift({ kind: "track", track: normalTrack(resumed), reason: "where you left off" });
  player.setQueue(entries, { keepCurrent: false });
  const first = entries.findIndex((e) => e.kind === "track");
  if (first >= 0) player.load(first, { at: resumed ? saved.at : 0, autoplay: false });
  announce(first >= 0 ? `Signed in. ${entries.filter((e) => e.kind === "track").length} tracks in your queue.` : "Signed in. Your queue is empty: compose a piece.");
  pollPending();
  const job = STORE.getItem("cadenza.job");
  if (job) api(`/generations/${job}`).then(followJob).catch((error) => { reportError(error); endComposing(); });
}

async function fillComposeChoices() {
  try {
    const styles = await api("/styles");
    const select = $("compose-style");
    select.length = 1;
    for (const s of styles.results || styles) select.add(new Option(s.name || humanName(s.slug), s.slug));
  } catch (error) {
    reportError(error);
  }
  try {
    const doc = await schema();
    const moods = resolve(doc, doc.components.schemas.GenerationInputRequest?.properties?.mood).enum || [];
    const select = $("compose-mood");
    select.length = 1;
    for (const m of moods) select.add(new Option(humanName(m), m));
  } catch {
    // moods stay "from my preferences"
  }
}

function wireAudio() {
  const audio = $("audio");
  const seek = $("seek");
  let lastSaved = 0;
  audio.addEventListener("playing", () => {
    const entry = player.current;
    $("play").classList.add("playing");
    $("play").setAttribute("aria-label", "Pause");
    player.renewals = 0;
    if (entry && !player.announcedPlay) {
      player.announcedPlay = true;
      outbox.add(entry.track.id, "play", audio.currentTime);
      announce(`Playing “${entry.track.title}”.`);
    }
  });
  audio.addEventListener("pause", () => {
    $("play").classList.remove("playing");
    $("play").setAttribute("aria-label", "Play");
  });
  audio.addEventListener("loadedmetadata", () => {
    seek.max = String(audio.duration || 0);
    $("duration").textContent = clock(Math.round(audio.duration));
    if (player.resumeAt && Math.abs(audio.currentTime - player.resumeAt) > 0.5) audio.currentTime = player.resumeAt;
  });
  audio.addEventListener("timeupdate", () => {
    seek.value = String(audio.currentTime);
    $("elapsed").textContent = clock(audio.currentTime);
    seek.setAttribute("aria-valuetext", `${clock(audio.currentTime)} of ${clock(audio.duration)}`);
    if (audio.currentTime > 0) player.resumeAt = audio.currentTime;
    const entry = player.current;
    if (entry && Math.abs(audio.currentTime - lastSaved) > 2) {
      lastSaved = audio.currentTime;
      rememberPosition(entry.track.id, audio.currentTime);
    }
  });
  audio.addEventListener("ended", () => {
    const entry = player.current;
    if (entry) outbox.add(entry.track.id, "complete", audio.duration || audio.currentTime);
    player.next({ skipping: false });
  });
  audio.addEventListener("error", () => {
    if (!audio.getAttribute("src")) return;
    player.renew();
  });
  seek.addEventListener("input", () => { audio.currentTime = Number(seek.value); });
  $("play").onclick = () => {
    if (audio.paused) player.play();
    else {
      player.wanted = false;
      audio.pause();
    }
  };
  $("skip").onclick = () => player.next({ skipping: true });
  $("prev").onclick = () => player.previous();
  $("like").onclick = () => player.rate("like");
  $("dislike").onclick = () => player.rate("dislike");
}

function start() {
  wireAudio();
  $("sign-in").addEventListener("submit", signIn);
  $("register-toggle").onclick = toggleRegister;
  $("sign-out").onclick = signOut;
  $("compose").addEventListener("submit", compose);
  $("prefs-toggle").onclick = openPreferences;
  $("prefs").addEventListener("submit", savePreferences);
  $("refresh").onclick = async () => {
    const items = await api("/me/playlist/refresh", { method: "POST", body: {} }).then((b) => b.items.map(entryFromItem)).catch(reportError);
    if (items) {
      player.setQueue(items);
      announce("Your queue is refreshed.");
      pollPending();
    }
  };
  window.addEventListener("online", () => outbox.flush());
  window.addEventListener("pagehide", () => {
    if (outbox.items.length && session.access) { // a last try that outlives the page
      api("/me/events", { method: "POST", body: { events: outbox.items.slice(0, 500) }, keepalive: true }).catch(() => null);
    }
  });
  document.body.dataset.outbox = String(outbox.items.length);
  if (session.access || session.refresh) showPlayer();
  document.body.dataset.ready = "true";
}

start();
