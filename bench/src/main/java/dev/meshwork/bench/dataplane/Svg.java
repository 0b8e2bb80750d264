package dev.meshwork.bench.dataplane;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Minimal SVG line charts for docs/benchmarks.md: enough for a latency distribution and memory over
 * time, with no plotting library to install. Pure.
 */
final class Svg {
  private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};
  private static final int W = 720;
  private static final int H = 360;
  private static final int LEFT = 60;
  private static final int BOTTOM = 40;
  private static final int TOP = 30;
  private static final int RIGHT = 140;

  private Svg() {}

  /** One line per series; x and y arrays of equal length. */
  record Series(double[] x, double[] y) {}

  /**
   * @param maxYFixed the top of the y axis (100 for percentages), or 0 to fit the data
   */
  static String chart(
      String title,
      String xLabel,
      String yLabel,
      Map<String, Series> series,
      boolean logX,
      double maxYFixed) {
    double minX = Double.MAX_VALUE;
    double maxX = -Double.MAX_VALUE;
    double maxY = 0;
    for (Series s : series.values()) {
      for (int i = 0; i < s.x().length; i++) {
        double x = logX ? Math.log10(Math.max(s.x()[i], 1e-3)) : s.x()[i];
        minX = Math.min(minX, x);
        maxX = Math.max(maxX, x);
        maxY = Math.max(maxY, s.y()[i]);
      }
    }
    if (minX >= maxX) {
      maxX = minX + 1;
    }
    maxY = maxYFixed > 0 ? maxYFixed : maxY <= 0 ? 1 : maxY * 1.05;
    int plotW = W - LEFT - RIGHT;
    int plotH = H - TOP - BOTTOM;
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            Locale.ROOT,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"12\">%n",
            W,
            H));
    b.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
    b.append(
        String.format(
            Locale.ROOT, "<text x=\"%d\" y=\"18\" font-size=\"14\">%s</text>%n", LEFT, esc(title)));
    b.append(
        String.format(
            Locale.ROOT,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n",
            LEFT,
            TOP + plotH,
            LEFT + plotW,
            TOP + plotH));
    b.append(
        String.format(
            Locale.ROOT,
            "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>%n",
            LEFT,
            TOP,
            LEFT,
            TOP + plotH));
    for (int t = 0; t <= 4; t++) {
      double xv = minX + (maxX - minX) * t / 4;
      double yv = maxY * t / 4;
      int px = LEFT + plotW * t / 4;
      int py = TOP + plotH - plotH * t / 4;
      b.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
              px,
              TOP + plotH + 16,
              fmt(logX ? Math.pow(10, xv) : xv)));
      b.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>%n",
              LEFT - 6,
              py + 4,
              fmt(yv)));
    }
    b.append(
        String.format(
            Locale.ROOT,
            "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>%n",
            LEFT + plotW / 2,
            H - 6,
            esc(xLabel)));
    b.append(
        String.format(
            Locale.ROOT,
            "<text x=\"14\" y=\"%d\" transform=\"rotate(-90 14 %d)\" text-anchor=\"middle\">%s</text>%n",
            TOP + plotH / 2,
            TOP + plotH / 2,
            esc(yLabel)));
    int i = 0;
    for (var e : series.entrySet()) {
      String color = COLORS[i % COLORS.length];
      StringBuilder pts = new StringBuilder();
      Series s = e.getValue();
      for (int k = 0; k < s.x().length; k++) {
        double xv = logX ? Math.log10(Math.max(s.x()[k], 1e-3)) : s.x()[k];
        double px = LEFT + (xv - minX) / (maxX - minX) * plotW;
        double py = TOP + plotH - s.y()[k] / maxY * plotH;
        pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", px, py));
      }
      b.append(
          String.format(
              Locale.ROOT,
              "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"%s\"/>%n",
              color,
              pts.toString().trim()));
      b.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%d\" y=\"%d\" fill=\"%s\">%s</text>%n",
              LEFT + plotW + 10,
              TOP + 16 * (i + 1),
              color,
              esc(e.getKey())));
      i++;
    }
    b.append("</svg>\n");
    return b.toString();
  }

  /** The CDF of sorted latencies, thinned to at most {@code points} points. */
  static Series cdf(double[] sorted, int points) {
    int n = Math.min(points, sorted.length);
    double[] x = new double[n];
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      int idx = (int) ((long) i * (sorted.length - 1) / Math.max(1, n - 1));
      x[i] = sorted[idx];
      y[i] = 100.0 * (idx + 1) / sorted.length;
    }
    return new Series(x, y);
  }

  static Series of(List<double[]> points) {
    double[] x = new double[points.size()];
    double[] y = new double[points.size()];
    for (int i = 0; i < points.size(); i++) {
      x[i] = points.get(i)[0];
      y[i] = points.get(i)[1];
    }
    return new Series(x, y);
  }

  private static String fmt(double v) {
    return v >= 100 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2g", v);
  }

  private static String esc(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
  }
}
