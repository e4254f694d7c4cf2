// A Server-Sent Events stream that never gives up.
//
// A browser's EventSource stops for good after any non-200 answer (a 503 while the server
// restarts, a 401), so this loop closes it on every error and opens a fresh one after a
// growing delay, resyncing first: `prepare` runs before each connection and returns the
// URL (the queue page refetches its list there and resumes after the list's position);
// `opened` runs once the stream is open (the ticket page refetches the ticket there, so
// nothing between its fetch and the stream can be missed).

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 5000;

export class LiveStream {
  constructor({ prepare, opened = async () => {}, handlers = {}, onState = () => {} }) {
    this.prepare = prepare;
    this.opened = opened;
    this.handlers = handlers;
    this.onState = onState;
    this.stopped = false;
    this.source = null;
    this.wake = null;
    this.online = () => this.wake?.();
  }

  start() {
    window.addEventListener("online", this.online);
    this.run();
    return this;
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.online);
    this.source?.close();
    this.wake?.();
  }

  async run() {
    let failures = 0;
    this.onState("connecting");
    while (!this.stopped) {
      const outcome = await this.connect(() => {
        failures = 0;
      });
      if (this.stopped || outcome === "unauthorized") return;
      if (outcome === "reset") continue;
      failures += 1;
      const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (failures - 1));
      const delay = Math.round(base * (0.8 + Math.random() * 0.4));
      this.onState("reconnecting", { delay, failures });
      await this.sleep(delay);
    }
  }

  /** One connection, from resync to its end: "error", "reset", "unauthorized" or "stopped". */
  connect(onLive) {
    return new Promise((resolve) => {
      const failed = (error) => resolve(error?.status === 401 ? "unauthorized" : "error");
      this.prepare().then((url) => {
        if (this.stopped) {
          resolve("stopped");
          return;
        }
        const source = new EventSource(url);
        this.source = source;
        const finish = (outcome) => {
          source.close();
          if (this.source === source) this.source = null;
          resolve(outcome);
        };
        source.onerror = () => finish("error");
        source.addEventListener("reset", () => finish("reset"));
        source.onopen = () => {
          this.opened().then(() => {
            if (source.readyState !== EventSource.OPEN) return;
            onLive();
            this.onState("live");
          }, (error) => finish(error?.status === 401 ? "unauthorized" : "error"));
        };
        for (const [name, handler] of Object.entries(this.handlers)) {
          source.addEventListener(name, (event) => {
            handler(JSON.parse(event.data), event.lastEventId ? Number(event.lastEventId) : null);
          });
        }
      }, failed);
    });
  }

  sleep(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }
}
