/// HTML text built piece by piece: `raw` for markup, `text` for content (escaped).
struct SVGText {
    private(set) var output = ""

    mutating func raw(_ markup: String) { output += markup }

    /// `open`, then `content` escaped, then `close`: an element around a piece of text.
    mutating func element(_ open: String, _ content: String, close: String) {
        raw(open)
        text(content)
        raw(close)
    }

    mutating func text(_ content: String) {
        for character in content {
            switch character {
            case "&": output += "&amp;"
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "\"": output += "&quot;"
            case "'": output += "&#39;"
            default: output.append(character)
            }
        }
    }

    /// ` data-KEY="VALUE"` for each pair, keys in order.
    mutating func attributes(_ data: [String: String]) {
        for key in data.keys.sorted() {
            raw(" data-\(key)=\"")
            text(data[key]!)
            raw("\"")
        }
    }
}

/// A chart's frame: its size, margins, scales and axes.
struct SVGChart {
    let width: Double
    let height: Double
    let title: String?
    var xScale = Scale.linear(0, 1)
    var yScale = Scale.linear(0, 1)
    let left = 64.0, right = 16.0, bottom = 48.0
    var top: Double { title == nil ? 14 : 30 }

    init(width: Double, height: Double, title: String?) {
        self.width = width
        self.height = height
        self.title = title
    }

    enum Scale {
        case linear(Double, Double)

        var bounds: (Double, Double) {
            switch self { case .linear(let low, let high): return (low, high) }
        }

        /// About `count` round tick values inside the bounds.
        func ticks(_ count: Int) -> [Double] {
            let (low, high) = bounds
            let span = max(high - low, 1e-9)
            let raw = span / Double(count)
            let magnitude = pow10(floorLog10(raw))
            let step = [1.0, 2, 2.5, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
            var value = (low / step).rounded(.up) * step
            var ticks: [Double] = []
            while value <= high + step * 1e-9 {
                ticks.append(abs(value) < step * 1e-9 ? 0 : value)
                value += step
            }
            return ticks
        }

        private func floorLog10(_ value: Double) -> Int {
            var exponent = 0, scaled = value
            while scaled >= 10 { scaled /= 10; exponent += 1 }
            while scaled < 1 { scaled *= 10; exponent -= 1 }
            return exponent
        }

        private func pow10(_ exponent: Int) -> Double {
            var result = 1.0
            if exponent >= 0 { for _ in 0..<exponent { result *= 10 } } else { for _ in 0..<(-exponent) { result /= 10 } }
            return result
        }
    }

    func x(_ value: Double) -> Double {
        let (low, high) = xScale.bounds
        return left + (value - low) / max(high - low, 1e-9) * (width - left - right)
    }

    func y(_ value: Double) -> Double {
        let (low, high) = yScale.bounds
        return height - bottom - (value - low) / max(high - low, 1e-9) * (height - top - bottom)
    }

    /// Opens the `<svg>` element (with an accessible label) and draws the title.
    func begin(_ page: inout SVGText, id: String?, classes: String, data: [String: String]) {
        page.raw("<svg class=\"chart \(classes)\"\(id.map { " id=\"\($0)\"" } ?? "") viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\"")
        page.attributes(data)
        page.raw(">")
        if let title {
            page.element("<text class=\"title\" x=\"\(svgNumber(left))\" y=\"18\">", title, close: "</text>")
        }
    }

    /// Grid lines, both axes with their ticks, and the axis titles (units included).
    func axes(_ page: inout SVGText, xLabel: String, yLabel: String, xTicks: [(Double, String)], yTicks: [(Double, String)]) {
        let bottomY = y(yScale.bounds.0), rightX = width - right
        for (value, label) in yTicks {
            let at = y(value)
            page.raw("<line class=\"gridline\" x1=\"\(svgNumber(left))\" x2=\"\(svgNumber(rightX))\" y1=\"\(svgNumber(at))\" y2=\"\(svgNumber(at))\"/>")
            page.element("<text x=\"\(svgNumber(left - 6))\" y=\"\(svgNumber(at + 4))\" text-anchor=\"end\">", label, close: "</text>")
        }
        page.raw("<line class=\"axis\" x1=\"\(svgNumber(left))\" x2=\"\(svgNumber(rightX))\" y1=\"\(svgNumber(bottomY))\" y2=\"\(svgNumber(bottomY))\"/>")
        page.raw("<line class=\"axis\" x1=\"\(svgNumber(left))\" x2=\"\(svgNumber(left))\" y1=\"\(svgNumber(top))\" y2=\"\(svgNumber(bottomY))\"/>")
        for (value, label) in xTicks {
            let at = x(value)
            page.raw("<line class=\"axis\" x1=\"\(svgNumber(at))\" x2=\"\(svgNumber(at))\" y1=\"\(svgNumber(bottomY))\" y2=\"\(svgNumber(bottomY + 4))\"/>")
            page.element("<text x=\"\(svgNumber(at))\" y=\"\(svgNumber(bottomY + 17))\" text-anchor=\"middle\">", label, close: "</text>")
        }
        page.raw("<text class=\"axis-label\" x=\"\(svgNumber((left + rightX) / 2))\" y=\"\(svgNumber(height - 8))\" text-anchor=\"middle\">")
        page.text(xLabel)
        page.raw("</text><text class=\"axis-label\" transform=\"translate(14 \(svgNumber((top + bottomY) / 2))) rotate(-90)\" text-anchor=\"middle\">")
        page.text(yLabel)
        page.raw("</text>")
    }
}

/// Two decimals for SVG coordinates.
func svgNumber(_ value: Double) -> String { "\((value * 100).rounded() / 100)" }
