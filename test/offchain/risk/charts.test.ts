import { expect } from "chai";
import { barChart, lineChart } from "../../../offchain/risk";
import { findAll, parseXml } from "./xml";

describe("risk: SVG charts", () => {
  it("the XML checker itself rejects what is not well-formed", () => {
    expect(() => parseXml("<svg><g></svg>")).to.throw("closes <g>");
    expect(() => parseXml('<svg a="1" a="2"/>')).to.throw("duplicate attribute");
    expect(() => parseXml("<svg>A & B</svg>")).to.throw("bad entity");
    expect(() => parseXml("<svg/><svg/>")).to.throw("more than one root");
    expect(() => parseXml("<svg a=1/>")).to.throw("unquoted");
    expect(parseXml('<svg a="x &amp; y"><t>1 &lt; 2</t></svg>').children[0].text).to.equal("1 &lt; 2");
  });

  it("draws a well-formed line chart with one polyline per series and the reference line", () => {
    const svg = lineChart({
      title: "Crash <2015> & after",
      xLabels: ["2015-06-15", "2015-06-16", "2015-06-17", "2015-06-18"],
      yLabel: "equity",
      series: [
        { name: "equity", values: [100, 80, 90, 60] },
        { name: "ratio", values: [0.5, 0.4, 0.45, 0.3] },
      ],
      references: [{ name: "maintenance", value: 25 }],
    });
    const root = parseXml(svg);
    expect(root.name).to.equal("svg");
    expect(root.attributes.xmlns).to.equal("http://www.w3.org/2000/svg");
    expect(findAll(root, "title")[0].text).to.equal("Crash &lt;2015&gt; &amp; after");
    expect(findAll(root, "polyline")).to.have.length(2);
    expect(findAll(root, "polyline")[0].attributes.points.split(" ")).to.have.length(4);
    expect(findAll(root, "line").some((l) => l.attributes["stroke-dasharray"])).to.equal(true);
  });

  it("breaks a line where a value is missing", () => {
    const svg = lineChart({
      title: "gap",
      xLabels: ["a", "b", "c", "d"],
      yLabel: "y",
      series: [{ name: "s", values: [1, undefined, 2, 3] }],
    });
    expect(findAll(parseXml(svg), "polyline")).to.have.length(2);
  });

  it("draws a well-formed grouped bar chart with one bar per series per category", () => {
    const svg = barChart({
      title: "Stress scenarios",
      categories: ["a-share-2015", "covid-2020", "Monte Carlo p99"],
      yLabel: "CNY",
      series: [
        { name: "bad debt", values: [18_000, 0, 1_250_000] },
        { name: "capital pool loss", values: [7_332.8, 0, 0] },
      ],
    });
    const root = parseXml(svg);
    // one background rect, 2 legend swatches, 3 × 2 bars
    expect(findAll(root, "rect")).to.have.length(1 + 2 + 6);
    expect(findAll(root, "text").map((t) => t.text)).to.include.members(["covid-2020", "1.25M"]);
  });

  it("stays well-formed for an empty or flat series", () => {
    parseXml(lineChart({ title: "flat", xLabels: ["x"], yLabel: "y", series: [{ name: "s", values: [5] }] }));
    parseXml(barChart({ title: "zero", categories: ["a"], yLabel: "y", series: [{ name: "s", values: [0] }] }));
  });
});
