#include <string>
#include <vector>

#include "files/listing.hpp"
#include "files/path.hpp"
#include "http/error_page.hpp"

namespace weft::files {
namespace {

using http::html_escape;

// System fonts only; colours from CSS variables, switched by prefers-color-scheme; the
// Modified column folds away on narrow screens.
constexpr std::string_view kStyle = R"(<style>
:root{color-scheme:light dark;--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--link:#0969da;--hover:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--link:#4493f8;--hover:#151b23}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif}
main{max-width:980px;margin:0 auto;padding:24px 16px 48px}
h1{font-size:1.2rem;font-weight:600;margin:0 0 16px;overflow-wrap:anywhere}
h1 a{color:var(--link);text-decoration:none}h1 .sep{color:var(--muted);margin:0 2px}
table{width:100%;border-collapse:collapse;table-layout:auto}
th,td{padding:7px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:.85rem;white-space:nowrap}
th button{all:unset;cursor:pointer}th button:focus-visible{outline:2px solid var(--link)}
th[aria-sort=ascending] button::after{content:" \2191"}th[aria-sort=descending] button::after{content:" \2193"}
th.name{width:100%}td.name{overflow-wrap:anywhere}td.name a{color:var(--link);text-decoration:none}td.name a:hover{text-decoration:underline}
tr.dir td.name a{font-weight:600}
.size,.time{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums;color:var(--muted)}
tbody tr:hover td{background:var(--hover)}
footer{margin-top:12px;color:var(--muted);font-size:.85rem}
@media (max-width:600px){.time{display:none}main{padding:16px 8px}th,td{padding:7px 6px}}
</style>)";

// Sorting: directories stay first; names compare naturally ("a2" < "a10") and break ties in
// ascending order whatever the direction; the order is kept
// in the URL (#sort=size-desc) and applied on load. data-scheme tells which colours apply.
constexpr std::string_view kScript = R"(<script>
(function(){
var tb=document.querySelector('#listing tbody'),bs=document.querySelectorAll('#listing th button');
function val(r,k){return k==='name'?r.dataset.name:Number(r.dataset[k]);}
function sort(k,d){
var rows=Array.prototype.slice.call(tb.querySelectorAll('tr.entry'));
rows.sort(function(a,b){
var da=a.dataset.dir==='1',db=b.dataset.dir==='1';if(da!==db)return da?-1:1;
var x=val(a,k),y=val(b,k),c=k==='name'?x.localeCompare(y,undefined,{numeric:true}):x-y;
if(d==='desc')c=-c;
return c!==0?c:a.dataset.name.localeCompare(b.dataset.name,undefined,{numeric:true});});
rows.forEach(function(r){tb.appendChild(r);});
bs.forEach(function(b){b.parentNode.setAttribute('aria-sort',b.dataset.key===k?(d==='desc'?'descending':'ascending'):'none');});}
bs.forEach(function(b){b.addEventListener('click',function(){
var d=b.parentNode.getAttribute('aria-sort')==='ascending'?'desc':'asc';
sort(b.dataset.key,d);history.replaceState(null,'','#sort='+b.dataset.key+'-'+d);});});
var m=/^#sort=(name|size|mtime)-(asc|desc)$/.exec(location.hash);if(m)sort(m[1],m[2]);
document.documentElement.dataset.scheme=matchMedia('(prefers-color-scheme: dark)').matches?'dark':'light';
})();
</script>)";

// "/a/b/" -> links to "/", "/a/", "/a/b/" written as relative hrefs ("../../", "../", "./").
void append_breadcrumbs(std::string& out, std::string_view url_path) {
  std::vector<std::string_view> segments;
  std::string_view rest = url_path;
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    const std::string_view seg = rest.substr(0, slash);
    if (!seg.empty()) segments.push_back(seg);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  const auto up = [](std::size_t n) {
    std::string href;
    for (std::size_t i = 0; i < n; ++i) href += "../";
    return href.empty() ? std::string("./") : href;
  };
  out += "<h1>Index of <a href=\"" + up(segments.size()) + "\">/</a>";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    out += "<a href=\"" + up(segments.size() - 1 - i) + "\">" + html_escape(sanitize_utf8(segments[i])) +
           "</a><span class=\"sep\">/</span>";
  }
  out += "</h1>\n";
}

}  // namespace

std::string render_listing_html(const Listing& listing) {
  const std::string title = html_escape(sanitize_utf8(listing.url_path));
  std::string out;
  out.reserve(kStyle.size() + kScript.size() + 1024 + listing.entries.size() * 400);
  out +=
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<meta name=\"color-scheme\" content=\"light dark\">\n<title>Index of ";
  out += title;
  out += "</title>\n";
  out += kStyle;
  out += "\n</head>\n<body><main>\n";
  append_breadcrumbs(out, listing.url_path);
  out +=
      "<table id=\"listing\"><thead><tr>"
      "<th class=\"name\" aria-sort=\"ascending\"><button data-key=\"name\">Name</button></th>"
      "<th class=\"size\" aria-sort=\"none\"><button data-key=\"size\">Size</button></th>"
      "<th class=\"time\" aria-sort=\"none\"><button data-key=\"mtime\">Modified (UTC)</button></th>"
      "</tr></thead>\n<tbody>\n";
  if (listing.has_parent) {
    out +=
        "<tr class=\"parent\"><td class=\"name\"><a href=\"../\">../</a></td>"
        "<td class=\"size\"></td><td class=\"time\"></td></tr>\n";
  }
  std::size_t dirs = 0;
  for (const ListingEntry& e : listing.entries) {
    const std::string shown = html_escape(sanitize_utf8(e.name));
    const std::string href = percent_encode(e.name) + (e.directory ? "/" : "");
    dirs += e.directory ? 1 : 0;
    out += e.directory ? R"(<tr class="entry dir")" : R"(<tr class="entry file")";
    out += R"( data-name=")";
    out += shown;
    out += e.directory ? R"(" data-dir="1" data-size="0)" : R"(" data-dir="0" data-size=")";
    if (!e.directory) out += std::to_string(e.size);
    out += R"(" data-mtime=")";
    out += std::to_string(e.modified);
    out += R"("><td class="name"><a href=")";
    out += href;
    out += R"(">)";
    out += shown;
    if (e.directory) out += '/';
    out += R"(</a></td><td class="size">)";
    out += e.directory ? std::string("&mdash;") : human_size(e.size);
    out += R"(</td><td class="time"><time datetime=")";
    out += rfc3339_utc_time(e.modified);
    out += R"(">)";
    out += short_utc_time(e.modified);
    out += "</time></td></tr>\n";
  }
  out += "</tbody></table>\n<footer>" + std::to_string(dirs) +
         (dirs == 1 ? " directory, " : " directories, ") + std::to_string(listing.entries.size() - dirs) +
         (listing.entries.size() - dirs == 1 ? " file" : " files");
  if (listing.truncated) out += " (list cut short: too many entries)";
  out += "</footer>\n</main>\n";
  out += kScript;
  out += "\n</body></html>\n";
  return out;
}

}  // namespace weft::files
