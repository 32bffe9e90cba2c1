import { describe, expect, it } from "vitest";
import { Counter, Histogram, prometheusLabels } from "../src/metrics.ts";

describe("Prometheus text exposition (the agent's /metrics)", () => {
  it("writes labels in insertion order and escapes backslash, newline and quote in values", () => {
    expect(prometheusLabels({})).toBe("");
    expect(prometheusLabels({ command: "offer", result: "ok" })).toBe('{command="offer",result="ok"}');
    expect(prometheusLabels({ reason: 'a\\b\n"c"' })).toBe('{reason="a\\\\b\\n\\"c\\""}');
  });

  it("keeps one series per label set and renders each", () => {
    const c = new Counter("t_total", "test");
    c.inc({ command: "offer", result: "ok" });
    c.inc({ command: "offer", result: "ok" }, 2);
    c.inc({ command: "answer", result: "ok" });
    expect(c.get({ command: "offer", result: "ok" })).toBe(3);
    expect(c.render()).toEqual(["# HELP t_total test", "# TYPE t_total counter", 't_total{command="offer",result="ok"} 3', 't_total{command="answer",result="ok"} 1']);
  });

  it("counts a histogram observation in every bucket at or above it", () => {
    const h = new Histogram("t_seconds", "test", [0.001, 0.01]);
    h.observe(0.005, { command: "offer" });
    expect(h.render()).toEqual([
      "# HELP t_seconds test",
      "# TYPE t_seconds histogram",
      't_seconds_bucket{command="offer",le="0.001"} 0',
      't_seconds_bucket{command="offer",le="0.01"} 1',
      't_seconds_bucket{command="offer",le="+Inf"} 1',
      't_seconds_sum{command="offer"} 0.005',
      't_seconds_count{command="offer"} 1',
    ]);
  });
});
