#include "tools/vtas-trace/trace_options.h"

#include <charconv>
#include <optional>

namespace vtas::trace {
namespace {

// Walks the argument list; an option's value is the rest of the same argument
// ("--type=note", "-c50") or the next argument ("--type note", "-c 50").
class ArgCursor {
 public:
  explicit ArgCursor(const std::vector<std::string>& args) : args_(args) {}

  bool done() const { return index_ >= args_.size(); }
  const std::string& current() const { return args_[index_]; }

  // True if the current argument is the option `name` (one of its spellings), which then
  // takes a value: stores it in *value, or the error in *error when it is missing.
  bool take_value(std::initializer_list<const char*> names, std::string* value,
                  std::optional<Error>* error) {
    const std::string& arg = current();
    for (const char* name_c : names) {
      const std::string name(name_c);
      const bool is_long = name.size() > 2;
      if (arg == name) {
        if (index_ + 1 >= args_.size()) {
          *error = make_error("option " + name + " needs a value; see vtas-trace --help");
        } else {
          *value = args_[index_ + 1];
          index_ += 2;
        }
        return true;
      }
      const std::string prefix = is_long ? name + "=" : name;
      if (arg.size() > prefix.size() && arg.compare(0, prefix.size(), prefix) == 0) {
        *value = arg.substr(prefix.size());
        ++index_;
        return true;
      }
    }
    return false;
  }

  bool take_flag(std::initializer_list<const char*> names) {
    for (const char* name : names) {
      if (current() == name) {
        ++index_;
        return true;
      }
    }
    return false;
  }

 private:
  const std::vector<std::string>& args_;
  size_t index_ = 0;
};

Result<uint64_t> parse_count(const std::string& text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0) {
    return make_error("-c wants a whole number of messages of at least 1, not '" + text + "'");
  }
  return value;
}

}  // namespace

Result<TraceOptions> parse_trace_options(const std::vector<std::string>& args) {
  TraceOptions options;
  bool instance_given = false;
  ArgCursor cursor(args);
  std::optional<Error> error;
  std::string value;
  while (!cursor.done() && !error) {
    if (cursor.take_flag({"-h", "--help"})) {
      options.help = true;
    } else if (cursor.take_flag({"--json"})) {
      options.json = true;
    } else if (cursor.take_flag({"-q", "--quiet"})) {
      options.quiet = true;
    } else if (cursor.take_value({"--instance"}, &value, &error)) {
      options.instance = value;
      instance_given = true;
    } else if (cursor.take_value({"--runtime-dir"}, &value, &error)) {
      options.runtime_dir = value;
    } else if (cursor.take_value({"--actor"}, &value, &error)) {
      if (!error) options.filter.add_actor(value);
    } else if (cursor.take_value({"--type"}, &value, &error)) {
      if (!error) {
        if (Status s = options.filter.add_type(value); !s) error = s.error();
      }
    } else if (cursor.take_value({"--kind"}, &value, &error)) {
      if (!error) {
        if (Status s = options.filter.add_kind(value); !s) error = s.error();
      }
    } else if (cursor.take_value({"-c", "--count"}, &value, &error)) {
      if (!error) {
        auto count = parse_count(value);
        if (count) {
          options.count = *count;
        } else {
          error = count.error();
        }
      }
    } else if (cursor.take_value({"-w", "--write"}, &value, &error)) {
      options.write_path = value;
    } else if (cursor.take_value({"-r", "--read"}, &value, &error)) {
      options.read_path = value;
    } else {
      const std::string& arg = cursor.current();
      return make_error(
          (arg.size() > 1 && arg[0] == '-' ? "unknown option '" : "unexpected argument '") + arg +
          "'; see vtas-trace --help");
    }
  }
  if (error) return *error;
  if (options.help) return options;

  if (instance_given && !options.runtime_dir.empty()) {
    return make_error("--instance and --runtime-dir both say where to attach; give one");
  }
  if (!options.live() && (instance_given || !options.runtime_dir.empty())) {
    return make_error(
        "-r reads a capture file, --instance/--runtime-dir attach to a running "
        "vtas; give one or the other");
  }
  if (options.instance.empty() || options.instance.find('/') != std::string::npos) {
    return make_error("--instance wants a name without '/', not '" + options.instance +
                      "'; use --runtime-dir for a directory");
  }
  if (!options.write_path.empty() && options.write_path == options.read_path) {
    return make_error("-w and -r name the same file '" + options.read_path +
                      "'; writing would destroy what is being read");
  }
  return options;
}

std::string trace_usage() {
  std::string text =
      "usage: vtas-trace [--instance NAME | --runtime-dir DIR] [--json] [--actor NAME]...\n"
      "                  [--type TYPE]... [--kind KIND]... [-c COUNT] [-w FILE] [-q]\n"
      "       vtas-trace -r FILE [--json] [filters] [-c COUNT] [-w FILE] [-q]\n"
      "\n"
      "Shows the control messages (protobuf envelopes) of a running vtas instance, or of a\n"
      "capture file. Tracing is on in the instance only while some vtas-trace is attached.\n"
      "\n"
      "  --instance NAME    attach to /run/vtas/NAME/trace.sock (default instance: vtas)\n"
      "  --runtime-dir DIR  attach to DIR/trace.sock (the manifest's runtime_dir)\n"
      "  -r, --read FILE    read a capture file written by -w instead of attaching\n"
      "  -w, --write FILE   also write matching messages to FILE (a capture, mode 0600)\n"
      "  -q, --quiet        do not print messages (with -w: only write them)\n"
      "  --json             one JSON object per line instead of one text line\n"
      "  -c, --count N      stop after N matching messages\n"
      "  --actor NAME       only messages sent or received by NAME (repeatable)\n"
      "  --type TYPE        only this body type (repeatable): field name, full or short\n"
      "                     type name, e.g. ping_request, vtas.diag.PingRequest, PingRequest\n"
      "  --kind KIND        only request, response or event (repeatable)\n"
      "  -h, --help         this text\n"
      "\n"
      "Repeated options of one kind are alternatives; different kinds must all match.\n"
      "Exit status: 0 done (count reached, end of file, SIGINT/SIGTERM), 1 failure,\n"
      "64 bad command line.\n"
      "\n"
      "Message types:\n";
  for (const auto& type : TraceFilter::known_types()) text += "  " + type + "\n";
  return text;
}

}  // namespace vtas::trace
