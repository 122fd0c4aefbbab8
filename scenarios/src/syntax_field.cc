#include "syntax_field.h"

#include <vector>

namespace scenarios::detail {
namespace {

struct Level {
  size_t indent;
  std::string segment;
  bool is_item;        // a list item ("0", "1", ...) rather than a key
  size_t item_count;   // items seen so far under this key
};

// "key: ..." or "key:" at the start of `content`; empty when the line holds no plain key.
std::string leading_key(std::string_view content) {
  for (size_t i = 0; i < content.size(); ++i) {
    const char c = content[i];
    if (c == '#' || c == '{' || c == '[' || c == '"' || c == '\'' || c == '}' || c == ']') return "";
    if (c == ':' && (i + 1 == content.size() || content[i + 1] == ' ' || content[i + 1] == '\t')) {
      std::string_view key = content.substr(0, i);
      while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
      return std::string(key);
    }
  }
  return "";
}

void pop_while(std::vector<Level>& stack, auto condition) {
  while (!stack.empty() && condition(stack.back())) stack.pop_back();
}

}  // namespace

std::string field_near_line(std::string_view text, int line) {
  std::vector<Level> stack;
  size_t start = 0;
  for (int number = 1; number <= line && start <= text.size(); ++number) {
    const size_t end = std::min(text.find('\n', start), text.size());
    std::string_view content = text.substr(start, end - start);
    start = end + 1;
    size_t indent = 0;
    while (indent < content.size() && content[indent] == ' ') ++indent;
    content.remove_prefix(indent);
    if (content.empty() || content[0] == '#' || content.substr(0, 3) == "---") continue;
    if (content[0] == '-' && (content.size() == 1 || content[1] == ' ')) {
      // A list item belongs to the key above it (indented less, or equally in compact style).
      pop_while(stack, [&](const Level& l) { return l.indent > indent || (l.indent == indent && l.is_item); });
      if (stack.empty() || stack.back().is_item) continue;
      stack.push_back({indent, std::to_string(stack.back().item_count++), true, 0});
      content.remove_prefix(content.size() == 1 ? 1 : 2);
      indent += 2;
      while (!content.empty() && content[0] == ' ') {
        content.remove_prefix(1);
        ++indent;
      }
    } else {
      pop_while(stack, [&](const Level& l) { return l.indent >= indent; });
    }
    const std::string key = leading_key(content);
    if (!key.empty()) stack.push_back({indent, key, false, 0});
  }
  std::string path;
  for (const Level& l : stack) path += (path.empty() ? "" : ".") + l.segment;
  return path;
}

}  // namespace scenarios::detail
