/**
 * A small Prometheus registry (text exposition format 0.0.4): counters,
 * gauges and histograms with labels. No dependency: the agent uses Node
 * built-ins only.
 */
type Labels = Record<string, string>;

const NEEDS_ESCAPE = /[\\\n"]/;

function escapeLabel(v: string): string {
  if (!NEEDS_ESCAPE.test(v)) return v; // the common case; labelText runs several times per ng request
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(labels: Labels): string {
  let text = "";
  for (const k of Object.keys(labels)) text += `${text === "" ? "{" : ","}${k}="${escapeLabel(labels[k]!)}"`;
  return text === "" ? "" : text + "}";
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (n === Infinity) return "+Inf";
  if (n === -Infinity) return "-Inf";
  return String(n);
}

interface Metric {
  render(): string[];
}

abstract class Family<T> implements Metric {
  protected readonly series = new Map<string, { labels: Labels; value: T }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge" | "histogram",
  ) {}
  protected entry(labels: Labels, init: () => T): { labels: Labels; value: T } {
    const key = labelText(labels);
    let e = this.series.get(key);
    if (e === undefined) {
      e = { labels: { ...labels }, value: init() };
      this.series.set(key, e);
    }
    return e;
  }
  protected header(): string[] {
    return [`# HELP ${this.name} ${this.help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${this.name} ${this.type}`];
  }
  abstract render(): string[];
}

export class Counter extends Family<number> {
  constructor(name: string, help: string) {
    super(name, help, "counter");
  }
  inc(labels: Labels = {}, by = 1): void {
    this.entry(labels, () => 0).value += by;
  }
  get(labels: Labels = {}): number {
    return this.series.get(labelText(labels))?.value ?? 0;
  }
  render(): string[] {
    return [...this.header(), ...[...this.series.values()].map((e) => `${this.name}${labelText(e.labels)} ${formatNumber(e.value)}`)];
  }
}

export class Gauge extends Family<number> {
  constructor(name: string, help: string) {
    super(name, help, "gauge");
  }
  set(value: number, labels: Labels = {}): void {
    this.entry(labels, () => 0).value = value;
  }
  get(labels: Labels = {}): number | undefined {
    return this.series.get(labelText(labels))?.value;
  }
  render(): string[] {
    return [...this.header(), ...[...this.series.values()].map((e) => `${this.name}${labelText(e.labels)} ${formatNumber(e.value)}`)];
  }
}

interface HistogramValue {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram extends Family<HistogramValue> {
  constructor(
    name: string,
    help: string,
    readonly buckets: readonly number[],
  ) {
    super(name, help, "histogram");
  }
  observe(value: number, labels: Labels = {}): void {
    const e = this.entry(labels, () => ({ counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) e.value.counts[i]!++;
    e.value.sum += value;
    e.value.count++;
  }
  render(): string[] {
    const lines = this.header();
    for (const { labels, value } of this.series.values()) {
      this.buckets.forEach((le, i) => lines.push(`${this.name}_bucket${labelText({ ...labels, le: formatNumber(le) })} ${value.counts[i]}`));
      lines.push(`${this.name}_bucket${labelText({ ...labels, le: "+Inf" })} ${value.count}`);
      lines.push(`${this.name}_sum${labelText(labels)} ${formatNumber(value.sum)}`);
      lines.push(`${this.name}_count${labelText(labels)} ${value.count}`);
    }
    return lines;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];
  /** Families rebuilt at each scrape (e.g. from rtpengine's statistics). */
  private readonly dynamic: (() => string[])[] = [];

  register<M extends Metric>(m: M): M {
    this.metrics.push(m);
    return m;
  }
  registerDynamic(render: () => string[]): void {
    this.dynamic.push(render);
  }
  render(): string {
    const lines = this.metrics.flatMap((m) => m.render());
    for (const d of this.dynamic) lines.push(...d());
    return lines.join("\n") + "\n";
  }
}

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Seconds; ng on loopback answers in ~1 ms, transcoding offers take longer. */
export const NG_LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export { labelText as prometheusLabels };
