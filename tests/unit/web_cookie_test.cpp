// The web session cookie on the wire, the Origin rule, sign-in links, and the rest.v1 response
// envelope with extra headers (protocols/session_cookie, web_origin, operator/web_methods,
// rest/rest_response).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "protocols/operator/web_methods.hpp"
#include "protocols/rest/rest_response.hpp"
#include "protocols/session_cookie.hpp"
#include "protocols/web_origin.hpp"
#include "runtime/api_error.hpp"

namespace vespid::core {
namespace {

using nlohmann::json;

TEST(SessionCookie, IsFoundAmongOtherCookies) {
  EXPECT_EQ(session_cookie_in("vespid_session=abc"), "abc");
  EXPECT_EQ(session_cookie_in("theme=dark; vespid_session=abc; lang=en"), "abc");
  EXPECT_EQ(session_cookie_in("theme=dark;vespid_session=\"abc\""), "abc") << "quoted";
  EXPECT_EQ(session_cookie_in("vespid_session=first; vespid_session=second"), "first");
  EXPECT_EQ(session_cookie_in("xvespid_session=abc; vespid_sessionx=def"), "");
  EXPECT_EQ(session_cookie_in(""), "");
  EXPECT_EQ(session_cookie_in("vespid_session"), "") << "no '=': no value";
}

TEST(SessionCookie, SetCookieCarriesEveryAttribute) {
  EXPECT_EQ(session_set_cookie("vws_x", 43200, false),
            "vespid_session=vws_x; Path=/; Max-Age=43200; HttpOnly; SameSite=Strict");
  EXPECT_EQ(session_set_cookie("vws_x", 60, true),
            "vespid_session=vws_x; Path=/; Max-Age=60; HttpOnly; SameSite=Strict; Secure");
  EXPECT_EQ(session_clear_cookie(false),
            "vespid_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
}

TEST(WebOrigin, NormalisesSchemeHostAndDefaultPort) {
  EXPECT_EQ(normalized_origin("HTTP://Example.COM:80"), "http://example.com");
  EXPECT_EQ(normalized_origin("https://example.com:443/"), "https://example.com");
  EXPECT_EQ(normalized_origin("https://example.com:8443"), "https://example.com:8443");
  EXPECT_EQ(normalized_origin("http://[::1]:3000"), "http://[::1]:3000");
  EXPECT_EQ(normalized_origin("null"), "");
  EXPECT_EQ(normalized_origin("ftp://example.com"), "");
  EXPECT_EQ(normalized_origin("https://example.com/path"), "");
  EXPECT_EQ(normalized_origin("https://"), "");
}

TEST(WebOrigin, OnlyTheRequestsOwnHostOrAnAllowedOriginPasses) {
  const std::vector<std::string> none;
  EXPECT_TRUE(origin_allowed("http://127.0.0.1:3000", "127.0.0.1:3000", none));
  EXPECT_TRUE(origin_allowed("https://vespid.example.com", "vespid.example.com:443", none));
  EXPECT_TRUE(origin_allowed("https://Vespid.Example.com", "vespid.example.com", none));
  // Same site, other origin: SameSite=Strict lets the cookie through, the Origin rule does not.
  EXPECT_FALSE(origin_allowed("http://127.0.0.1:8080", "127.0.0.1:3000", none));
  EXPECT_FALSE(origin_allowed("https://evil.example", "127.0.0.1:3000", none));
  EXPECT_FALSE(origin_allowed("http://vespid.example.com", "vespid.example.com:443", none))
      << "scheme matters: port 80 is not 443";
  EXPECT_FALSE(origin_allowed("", "127.0.0.1:3000", none));
  EXPECT_FALSE(origin_allowed("null", "127.0.0.1:3000", none));
  EXPECT_FALSE(origin_allowed("http://127.0.0.1:3000", "", none));
  const std::vector<std::string> allowed = {"https://ui.example.com"};
  EXPECT_TRUE(origin_allowed("https://ui.example.com", "10.0.0.5:3001", allowed));
  EXPECT_FALSE(origin_allowed("https://other.example.com", "10.0.0.5:3001", allowed));
}

TEST(LoginLink, PutsTheCodeInTheFragment) {
  EXPECT_EQ(login_link("http://127.0.0.1:3000", "vwl_c"), "http://127.0.0.1:3000/#login=vwl_c");
  EXPECT_EQ(login_link("https://example.com/vespid/", "vwl_c"),
            "https://example.com/vespid/#login=vwl_c");
  EXPECT_THROW(login_link("127.0.0.1:3000", "c"), api::ApiError) << "no scheme";
  EXPECT_THROW(login_link("http://x/#a", "c"), api::ApiError) << "a fragment of its own";
  EXPECT_THROW(login_link("http://x y", "c"), api::ApiError);
  EXPECT_THROW(login_link("javascript:alert(1)", "c"), api::ApiError);
}

TEST(RestResponseEnvelope, JsonBodyWithDefaultHeaders) {
  RestResponse r{201, {{"ok", true}}};
  const json env = json::parse(rest_response_envelope(r));
  EXPECT_EQ(env["status"], 201);
  EXPECT_EQ(env["headers"]["content-type"], "application/json");
  EXPECT_EQ(env["headers"]["cache-control"], "no-store");
  EXPECT_EQ(json::parse(env["body"].get<std::string>()), json({{"ok", true}}));
}

TEST(RestResponseEnvelope, ExtraHeadersRepeatAndReplaceDefaults) {
  RestResponse r{200, {{"ok", true}}};
  r.headers = {{"Set-Cookie", "a=1"}, {"set-cookie", "b=2"}, {"Cache-Control", "max-age=5"}};
  const json env = json::parse(rest_response_envelope(r));
  EXPECT_EQ(env["headers"]["set-cookie"], json::array({"a=1", "b=2"}));
  EXPECT_EQ(env["headers"]["cache-control"], "max-age=5") << "replaced, not repeated";
}

TEST(RestResponseEnvelope, ARawBodyGoesOutAsItIsWithItsContentType) {
  RestResponse r;
  r.raw_body = "# HELP up 1\nup 1\n";
  r.content_type = "text/plain; version=0.0.4";
  const json env = json::parse(rest_response_envelope(r));
  EXPECT_EQ(env["body"], "# HELP up 1\nup 1\n");
  EXPECT_EQ(env["headers"]["content-type"], "text/plain; version=0.0.4");
}

TEST(RestResponseEnvelope, HeaderInjectionBecomesA500) {
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"set-cookie", "a=1\r\nX-Evil: yes"},
                                                        {"set-cookie", "a=1\nX-Evil: yes"},
                                                        {"x-evil\r\nx", "1"},
                                                        {"bad name", "1"},
                                                        {"", "1"},
                                                        {"x", std::string("a\0b", 3)}}) {
    RestResponse r{200, {{"secret", "not sent"}}};
    r.headers.emplace_back(name, value);
    std::string problem;
    const json env = json::parse(rest_response_envelope(r, &problem));
    EXPECT_EQ(env["status"], 500) << name;
    EXPECT_FALSE(problem.empty());
    EXPECT_EQ(env["body"].get<std::string>().find("not sent"), std::string::npos);
    EXPECT_FALSE(env["headers"].contains("x-evil"));
  }
  RestResponse r;
  r.content_type = "text/plain\r\nX-Evil: yes";
  EXPECT_EQ(json::parse(rest_response_envelope(r))["status"], 500);
}

}  // namespace
}  // namespace vespid::core
