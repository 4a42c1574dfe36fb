//! Tests of the Prompter rules: §8.1 options, §8.2 decisions, §8.3 defaults, §8.5 templates,
//! §8.6 sanitiser, and the §9.9 rows that concern the core (122–128, 129's decision).

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used, clippy::panic)]

use super::*;
use crate::url::NativeUrlParser;

const URLS: NativeUrlParser = NativeUrlParser;
const BASE: &str = "https://app.example/dir/page.html?q=1#frag";

/// A test-only serialisation of a node tree (never used to build DOM).
fn show(nodes: &[Node]) -> String {
    let mut out = String::new();
    for n in nodes {
        match n {
            Node::Text(t) => out.push_str(&t.replace('<', "&lt;").replace('>', "&gt;")),
            Node::Element { tag, href, children } => {
                match href {
                    Some(h) => out.push_str(&format!("<{tag} href=\"{h}\">")),
                    None => out.push_str(&format!("<{tag}>")),
                }
                if *tag != "br" {
                    out.push_str(&show(children));
                    out.push_str(&format!("</{tag}>"));
                }
            }
        }
    }
    out
}

fn san(html: &str) -> String {
    show(&sanitize(html, BASE, &URLS))
}

fn err_message(r: Result<Template, PrompterError>) -> String {
    r.unwrap_err().message()
}

// ----- §8.1 options -----

#[test]
fn option_names_row_128() {
    for name in OPTION_NAMES {
        assert_eq!(check_option_name(name), Ok(()));
    }
    assert_eq!(check_option_name("colour").unwrap_err().message(), "Unknown option: colour");
    assert!(check_option_name("storeUrl").is_err(), "case-sensitive");
}

#[test]
fn store_url_rules_row_125() {
    for ok in [
        "https://store.example/app",
        "https://store.example",
        "http://localhost:8000/app",
        "http://LOCALHOST/app",
        "http://shop.localhost/app",
        "http://127.0.0.1:7802/app",
        "http://[::1]/app",
    ] {
        assert_eq!(validate_store_url(ok, &URLS), Ok(()), "{ok}");
    }
    for bad in [
        "javascript:alert(1)",
        "http://store.example/app",
        "http://127.0.0.2/app",
        "http://localhost.example/",
        "/relative/store",
        "store.example",
        "ftp://store.example/",
        "data:text/html,x",
        "mailto:store@example.com",
    ] {
        assert_eq!(
            validate_store_url(bad, &URLS).unwrap_err().message(),
            "Invalid storeURL option",
            "{bad}"
        );
    }
    assert_eq!(
        validate_store_url("", &URLS).unwrap_err().message(),
        "You must provide a storeURL option"
    );
}

#[test]
fn overlay_id_rule() {
    for ok in ["a", "moz-receiptverifier-overlay", "A_b-9", &format!("x{}", "y".repeat(63))] {
        assert_eq!(validate_overlay_id(ok), Ok(()), "{ok}");
    }
    for bad in ["", "9a", "-a", "a b", "a.b", "ä", &format!("x{}", "y".repeat(64)), "a\"><script>"]
    {
        assert_eq!(
            validate_overlay_id(bad).unwrap_err().message(),
            "Invalid overlayId option",
            "{bad}"
        );
    }
    assert_eq!(validate_overlay_id(DEFAULT_OVERLAY_ID), Ok(()));
}

#[test]
fn error_messages_are_exact() {
    let cases = [
        (PrompterError::UnknownTemplate("x".into()), "Unknown template: x"),
        (PrompterError::TemplateNotString("refunded".into()), "Template refunded must be a string"),
        (PrompterError::MissingSupportHtml, "You must provide a supportHTML option"),
        (PrompterError::InvalidSupportHtml, "Invalid supportHTML option"),
        (PrompterError::InvalidTemplates, "Invalid templates option"),
    ];
    for (e, m) in cases {
        assert_eq!(e.message(), m);
        assert_eq!(e.to_string(), m);
    }
    assert_eq!(NOT_COMPLETE_MESSAGE, "Prompter called before verification complete");
    assert_eq!(NEEDS_DOCUMENT_MESSAGE, "Prompter needs a document");
    assert_eq!(unexpected_state_message("[Weird x]"), "Unexpected state in verifier: [Weird x]");
}

// ----- §8.3 defaults -----

#[test]
fn default_templates_exact_text() {
    assert_eq!(DEFAULT_TEMPLATES.len(), 10);
    for (i, (name, _)) in DEFAULT_TEMPLATES.iter().enumerate() {
        assert_eq!(*name, TemplateName::ALL[i]);
        assert_eq!(TemplateName::from_name(name.as_str()), Some(*name));
    }
    assert_eq!(
        default_template(TemplateName::FatalInternalError),
        "We have encountered a error that keeps us from continuing.  Please contact support: <%= supportHTML %>"
    );
    assert_eq!(
        default_template(TemplateName::InvalidReceiptIssuer),
        "You purchased this application from <%= error.iss %> which is not a store we have a relationship with.  Please either <a href=\"<%= quote(storeURL) %>\">re-purchase the application</a> or contact support: <%= supportHTML %>"
    );
    assert_eq!(
        default_template(TemplateName::GenericError),
        "An error has occurred.  <a href=\"<%= quote(storeURL) %>\">Reinstalling the application</a> may fix this problem.  If not please contact support: <%= supportHTML %>"
    );
    assert_eq!(default_template(TemplateName::DialogLabel), "Purchase verification");
    // Every default is valid, and the set serves the exact text.
    let set = TemplateSet::defaults();
    for (name, text) in DEFAULT_TEMPLATES {
        assert!(parse_template(name, text).is_ok(), "{name:?}");
        assert_eq!(set.text(name), text);
    }
    assert_eq!(TemplateName::from_name("StoreInstall"), None);
}

// ----- §8.5 templates -----

#[test]
fn allowed_expressions_and_whitespace() {
    let t = parse_template(
        TemplateName::GenericError,
        "a<%=supportHTML%>b<%= storeURL %>c<%=\tquote( storeURL )\n%>d<%= error.iss %>e<%= quote(error._x9) %>",
    )
    .unwrap();
    assert_eq!(
        t.parts(),
        &[
            Part::Text("a".into()),
            Part::Expr(Expr::SupportHtml),
            Part::Text("b".into()),
            Part::Expr(Expr::StoreUrl),
            Part::Text("c".into()),
            Part::Expr(Expr::StoreUrl),
            Part::Text("d".into()),
            Part::Expr(Expr::ErrorProp("iss".into())),
            Part::Text("e".into()),
            Part::Expr(Expr::ErrorProp("_x9".into())),
        ]
    );
    // Text without placeholders, and stray `%>`, are literal.
    let t = parse_template(TemplateName::Refunded, "50%> done").unwrap();
    assert_eq!(t.parts(), &[Part::Text("50%> done".into())]);
}

#[test]
fn rejected_expressions_rows_126_127() {
    let m = |key: &str, text: &str| err_message(validate_template(key, text));
    assert_eq!(
        m("storeInstall", "<% alert(1) %>"),
        "Unsupported template expression in storeInstall: <% alert(1) %>"
    );
    assert_eq!(
        m("storeInstall", "<%= error.iss.constructor %>"),
        "Unsupported template expression in storeInstall: <%= error.iss.constructor %>"
    );
    for (text, placeholder) in [
        ("x <%= storeURL", "<%= storeURL"),
        ("x <%", "<%"),
        ("<%>", "<%>"),
        ("<%- supportHTML %>", "<%- supportHTML %>"),
        ("<%=%>", "<%=%>"),
        ("a <%= alert(1) %> b <%= storeURL %>", "<%= alert(1) %>"),
        ("<%= quote(supportHTML) %>", "<%= quote(supportHTML) %>"),
        ("<%= error %>", "<%= error %>"),
        ("<%= error.9x %>", "<%= error.9x %>"),
        ("<%= error['iss'] %>", "<%= error['iss'] %>"),
        ("<%= quote(storeURL %>", "<%= quote(storeURL %>"),
        ("<%= quote storeURL %>", "<%= quote storeURL %>"),
        ("<%= storeURL; alert(1) %>", "<%= storeURL; alert(1) %>"),
        ("<%= storeURL <%= supportHTML %>", "<%= storeURL <%= supportHTML %>"),
        ("<%= StoreURL %>", "<%= StoreURL %>"),
        ("<% = storeURL %>", "<% = storeURL %>"),
        ("<%\n= storeURL %>", "<%\n= storeURL %>"),
    ] {
        assert_eq!(
            m("genericError", text),
            format!("Unsupported template expression in genericError: {placeholder}"),
            "{text}"
        );
    }
    // dialogLabel allows none at all.
    assert_eq!(
        m("dialogLabel", "Check <%= storeURL %>"),
        "Unsupported template expression in dialogLabel: <%= storeURL %>"
    );
    assert!(validate_template("dialogLabel", "Kaufprüfung").is_ok());
    assert_eq!(m("colour", "x"), "Unknown template: colour");
}

#[test]
fn template_set_merges_into_a_copy() {
    let mut set = TemplateSet::defaults();
    set.set("storeInstall", "Buy at <a href=\"<%= storeURL %>\">the store</a>").unwrap();
    assert_eq!(
        set.text(TemplateName::StoreInstall),
        "Buy at <a href=\"<%= storeURL %>\">the store</a>"
    );
    // A failing entry leaves the set unchanged.
    assert!(set.set("storeInstall", "<% x %>").is_err());
    assert_eq!(
        set.text(TemplateName::StoreInstall),
        "Buy at <a href=\"<%= storeURL %>\">the store</a>"
    );
    assert_eq!(TemplateSet::defaults().text(TemplateName::StoreInstall), DEFAULT_TEMPLATES[2].1);
    let e = TemplateSet::with_overrides([("refunded", "ok"), ("bogus", "x")]).unwrap_err();
    assert_eq!(e.message(), "Unknown template: bogus");
    let s = TemplateSet::with_overrides([("refunded", "ok")]).unwrap();
    assert_eq!(s.text(TemplateName::Refunded), "ok");
}

#[test]
fn quote_escapes_five_characters() {
    assert_eq!(
        quote(r#"<a href="x" title='y'>&amp;</a>"#),
        "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;"
    );
    assert_eq!(quote("plain ü"), "plain ü");
}

#[test]
fn expansion_escapes_everything_but_support_html() {
    let t = TemplateSet::defaults();
    let store = "https://store.example/app?a=1&b=\"2\"";
    let html = t.get(TemplateName::StoreInstall).expand(store, "", &mut |_| String::new());
    assert_eq!(
        html,
        "Please visit the <a href=\"https://store.example/app?a=1&amp;b=&quot;2&quot;\">store page</a> to install the application."
    );
    let nodes = sanitize(&html, BASE, &URLS);
    assert_eq!(
        show(&nodes),
        "Please visit the <a href=\"https://store.example/app?a=1&b=\"2\"\">store page</a> to install the application."
    );
    // Unquoted storeURL is escaped as well.
    let t2 = parse_template(TemplateName::Refunded, "<%= storeURL %>").unwrap();
    assert_eq!(t2.expand("https://x/?a<b", "", &mut |_| String::new()), "https://x/?a&lt;b");
}

#[test]
fn receipt_values_are_text_row_122() {
    let set = TemplateSet::defaults();
    let iss = "<img src=x onerror=alert(1)>";
    let nodes = set.get(TemplateName::InvalidReceiptIssuer).render(
        "https://store.example/app",
        "<a href=\"mailto:help@example.com\">help</a>",
        &mut |name| {
            if name == "iss" {
                iss.to_owned()
            } else {
                String::new()
            }
        },
        BASE,
        &URLS,
    );
    let text = text_content(&nodes);
    assert!(
        text.starts_with("You purchased this application from <img src=x onerror=alert(1)> which"),
        "{text}"
    );
    assert_eq!(
        show(&nodes),
        "You purchased this application from &lt;img src=x onerror=alert(1)&gt; which is not a store we have a relationship with.  Please either <a href=\"https://store.example/app\">re-purchase the application</a> or contact support: <a href=\"mailto:help@example.com\">help</a>"
    );
    // The error property lookup gets the bare name.
    let mut asked = Vec::new();
    let _ =
        parse_template(TemplateName::GenericError, "<%= error.detail %><%= quote(error.code) %>")
            .unwrap()
            .expand("", "", &mut |n| {
                asked.push(n.to_owned());
                String::new()
            });
    assert_eq!(asked, ["detail", "code"]);
}

// ----- §8.2 respond -----

fn resp(
    state: Option<Class>,
    o: RespondOptions,
    errs: &[Option<Class>],
) -> (PromptAction, Option<usize>) {
    let r = respond(state, o, errs);
    (r.action, r.reason)
}

fn shown(template: TemplateName, blocking: bool) -> PromptAction {
    PromptAction::Show { template, blocking }
}

#[test]
fn respond_rows_in_order() {
    use Class::*;
    let d = RespondOptions::default();
    let allow = RespondOptions { allow_no_install: true, ..d };
    let ignore = RespondOptions { ignore_internal_error: true, ..d };
    let fatal = RespondOptions { fatal_internal_error: true, ..d };
    let both = RespondOptions { ignore_internal_error: true, fatal_internal_error: true, ..d };
    let n = (PromptAction::Nothing, None);
    // Row 1
    assert_eq!(resp(Some(VerificationIncomplete), d, &[]), (PromptAction::ThrowNotComplete, None));
    // Row 2 and 3
    for s in [
        Ok,
        OkCache,
        OkStaleCache,
        NetworkError,
        ServerError,
        ConnectionError,
        RequestTimeout,
        ServerStatusError,
        InvalidServerResponse,
    ] {
        assert_eq!(resp(Some(s), d, &[Some(Refunded)]), n, "{s:?}");
        assert_eq!(resp(Some(s), allow, &[]), n, "{s:?}");
    }
    // Row 4
    assert_eq!(
        resp(Some(MozAppsNotSupported), d, &[]).0,
        shown(TemplateName::MozAppsNotSupported, true)
    );
    assert_eq!(
        resp(Some(MozAppsNotSupported), allow, &[]).0,
        shown(TemplateName::MozAppsNotSupported, false)
    );
    // Row 5
    for s in [InternalError, MozAppsError, VerifierError] {
        assert_eq!(resp(Some(s), d, &[]).0, shown(TemplateName::InternalError, false));
        assert_eq!(resp(Some(s), ignore, &[]), n);
        assert_eq!(resp(Some(s), fatal, &[]).0, shown(TemplateName::FatalInternalError, true));
        assert_eq!(resp(Some(s), both, &[]), n, "ignore is tested first");
        assert_eq!(
            resp(Some(s), RespondOptions { allow_no_install: true, ..fatal }, &[]).0,
            shown(TemplateName::FatalInternalError, true)
        );
    }
    // Row 6 (row 129: NoReceipts without allowNoInstall shows storeInstall, blocking)
    assert_eq!(resp(Some(NoReceipts), d, &[]).0, shown(TemplateName::StoreInstall, true));
    assert_eq!(resp(Some(NoReceipts), allow, &[]), n);
    assert_eq!(resp(Some(NotInstalled), d, &[]).0, shown(TemplateName::StoreInstall, true));
    assert_eq!(resp(Some(NotInstalled), allow, &[]).0, shown(TemplateName::StoreInstall, false));
    assert_eq!(resp(Some(NeedsInstall), allow, &[]).0, shown(TemplateName::StoreInstall, false));
    // Row 7
    assert_eq!(
        resp(Some(NoValidReceipts), d, &[Some(Refunded)]),
        (shown(TemplateName::Refunded, true), Some(0))
    );
    assert_eq!(
        resp(Some(NoValidReceipts), allow, &[Some(Refunded)]),
        (shown(TemplateName::Refunded, false), Some(0))
    );
    assert_eq!(
        resp(Some(NoValidReceipts), d, &[]),
        (shown(TemplateName::GenericError, true), None)
    );
    // Row 8: error classes and unknown objects are not states the Prompter knows.
    assert_eq!(resp(Some(Refunded), d, &[]).0, PromptAction::ThrowUnexpectedState);
    assert_eq!(resp(Some(ReceiptFormatError), d, &[]).0, PromptAction::ThrowUnexpectedState);
    assert_eq!(resp(None, d, &[]).0, PromptAction::ThrowUnexpectedState);
}

#[test]
fn best_reason_walk_and_template_mapping() {
    use Class::*;
    assert_eq!(best_reason(&[]), None);
    assert_eq!(best_reason(&[Some(WrongType), Some(Refunded)]), Some(0), "first wins");
    assert_eq!(
        best_reason(&[Some(ConnectionError), Some(Refunded)]),
        Some(1),
        "a NetworkError is replaced"
    );
    assert_eq!(
        best_reason(&[
            Some(ConnectionError),
            Some(RequestTimeout),
            Some(InvalidFromStore),
            Some(Refunded)
        ]),
        Some(2)
    );
    assert_eq!(
        best_reason(&[Some(RequestTimeout), Some(ConnectionError)]),
        Some(1),
        "replaced even by another NetworkError"
    );
    assert_eq!(
        best_reason(&[None, Some(Refunded)]),
        Some(0),
        "an unknown object is not a NetworkError"
    );
    let cases = [
        (Some(Refunded), TemplateName::Refunded),
        (Some(InvalidReceiptIssuer), TemplateName::InvalidReceiptIssuer),
        (Some(InvalidFromStore), TemplateName::InvalidFromStore),
        (Some(ReceiptFormatError), TemplateName::ReceiptFormatError),
        (Some(ReceiptParseError), TemplateName::ReceiptFormatError),
        (Some(WrongType), TemplateName::GenericError),
        (Some(ProductUrlError), TemplateName::GenericError),
        (Some(VerifyDomainMismatch), TemplateName::GenericError),
        (Some(ReceiptExpired), TemplateName::GenericError),
        (Some(ReceiptNotYetValid), TemplateName::GenericError),
        (Some(InvalidSignature), TemplateName::GenericError),
        (Some(CertificateError), TemplateName::GenericError),
        (Some(VerifierError), TemplateName::GenericError),
        (Some(ConnectionError), TemplateName::GenericError),
        (None, TemplateName::GenericError),
    ];
    for (c, t) in cases {
        assert_eq!(reason_template(c), t, "{c:?}");
    }
    let r = respond(
        Some(NoValidReceipts),
        RespondOptions::default(),
        &[Some(ConnectionError), Some(ReceiptParseError)],
    );
    assert_eq!(r.action, shown(TemplateName::ReceiptFormatError, true));
    assert_eq!(r.reason, Some(1));
    let r = respond(Some(NoValidReceipts), RespondOptions::default(), &[Some(ConnectionError)]);
    assert_eq!((r.action, r.reason), (shown(TemplateName::GenericError, true), Some(0)));
}

// ----- §8.6 sanitiser -----

#[test]
fn row_123_hostile_support_html() {
    let html = r#"<a href="javascript:alert(1)">x</a><script>alert(2)</script><b onclick="f()">y</b><iframe src="https://e.example"></iframe>"#;
    assert_eq!(san(html), "x<b>y</b>");
}

#[test]
fn row_124_mailto_link() {
    let nodes = sanitize(r#"<a href="mailto:me@example.com">mail</a>"#, BASE, &URLS);
    assert_eq!(
        nodes,
        vec![Node::Element {
            tag: "a",
            href: Some("mailto:me@example.com".into()),
            children: vec![Node::Text("mail".into())],
        }]
    );
    assert_eq!(LINK_REL, "noopener noreferrer");
}

#[test]
fn kept_elements_lose_their_attributes() {
    assert_eq!(
        san(
            r#"<p class="c" style="x" id=i>1<strong title=t>2</strong><i>3</i><em>4</em><span lang=de>5</span><br clear=all>6</p>"#
        ),
        "<p>1<strong>2</strong><i>3</i><em>4</em><span>5</span><br>6</p>"
    );
    assert_eq!(san("<B>x</B><SPAN>y</span>"), "<b>x</b><span>y</span>");
    assert_eq!(
        san(r#"<a href="https://x.example/" target="_blank" rel="opener" onclick="f()">l</a>"#),
        "<a href=\"https://x.example/\">l</a>"
    );
}

#[test]
fn dropped_elements_take_their_content() {
    for tag in DROPPED_ELEMENTS {
        let html = format!("a<{tag} x=1>SECRET<b>SECRET</b></{tag}>b");
        let out = san(&html);
        if is_void_dropped(tag) {
            // A void element has no content: only the tag goes.
            assert_eq!(out, "aSECRET<b>SECRET</b>b", "{tag}");
        } else {
            assert_eq!(out, "ab", "{tag}");
        }
    }
    // Raw-text content: tags inside are not tags.
    assert_eq!(san("<script>x = '</b><b>';</script>ok"), "ok");
    assert_eq!(san("<style>b{}</style ><b>k</b>"), "<b>k</b>");
    assert_eq!(san("<title><b>SECRET</b></title>t"), "t");
    assert_eq!(
        san("<textarea></textarea x><p>SECRET</textarea>t"),
        "<p>SECRETt</p>",
        "the first end tag closes"
    );
    assert_eq!(san("<script>never closed <b>SECRET"), "");
    assert_eq!(san("<noscript><b>SECRET</b></noscript>t"), "t");
    // Nested same-name dropped elements.
    assert_eq!(san("<template><template>S</template>S</template>t"), "t");
    assert_eq!(san("<svg><svg/>S</svg>t"), "t");
    assert_eq!(san("<svg/>t<math/>u"), "tu");
    assert_eq!(san("<object><embed>S</object>t"), "t");
    // Void dropped elements have no content.
    assert_eq!(san("<meta charset=x>t<link rel=x>u<base href=x>v<embed src=x>w"), "tuvw");
    // Unterminated dropped elements drop the rest.
    assert_eq!(san("a<select><option>S"), "a");
}

#[test]
fn other_elements_are_unwrapped() {
    assert_eq!(
        san("<div><u>x</u><img src=x onerror=alert(1)><custom-el>y</custom-el></div>"),
        "xy"
    );
    assert_eq!(san("<table><tr><td><b>c</b></td></tr></table>"), "<b>c</b>");
    assert_eq!(san("<form action=x><input value=v><button>b</button></form>"), "b");
    // Raw-text elements that are not dropped keep their content as text.
    assert_eq!(san("<xmp><b>x</b></xmp>"), "&lt;b&gt;x&lt;/b&gt;");
    assert_eq!(san("<plaintext><b>x</b></plaintext>"), "&lt;b&gt;x&lt;/b&gt;&lt;/plaintext&gt;");
}

#[test]
fn comments_doctype_pi_cdata_removed() {
    assert_eq!(san("a<!-- <b>x</b> -->b"), "ab");
    assert_eq!(san("a<!---->b<!-->c<!--->d"), "abcd");
    assert_eq!(san("a<!-- x --!>b"), "ab");
    assert_eq!(san("a<!-- never closed <b>x</b>"), "a");
    assert_eq!(san("<!DOCTYPE html>a<!doctype x>b"), "ab");
    assert_eq!(san("a<?xml version=\"1.0\"?>b"), "ab");
    // A CDATA section in HTML content is a bogus comment up to the first '>'.
    assert_eq!(san("a<![CDATA[<b>x</b>]]>b"), "ax]]&gt;b");
    assert_eq!(san("a</ x>b</>c"), "abc");
}

#[test]
fn stray_angle_brackets_are_text() {
    assert_eq!(san("1 < 2 > 0"), "1 &lt; 2 &gt; 0");
    assert_eq!(san("a<"), "a&lt;");
    assert_eq!(san("a</"), "a&lt;/");
    assert_eq!(san("a<b"), "a", "EOF in a tag drops the tag");
    assert_eq!(san("a<b title=\"x>y"), "a");
    assert_eq!(san("<b title=\"x>y\">k</b>"), "<b>k</b>");
    assert_eq!(san("a<3 b"), "a&lt;3 b");
}

#[test]
fn character_references() {
    let t = |s: &str| text_content(&sanitize(s, BASE, &URLS));
    assert_eq!(
        t("&amp;&lt;&gt;&quot;&apos;&nbsp;&copy;&reg;&hellip;&mdash;&ndash;&laquo;&raquo;"),
        "&<>\"'\u{A0}©®…—–«»"
    );
    assert_eq!(t("&colon;&Tab;&NewLine;&lpar;&sol;&bsol;"), ":\t\n(/\\");
    assert_eq!(t("&amp;&lt;&gt;"), "&<>");
    assert_eq!(t("&AMP;&LT;&GT;&QUOT;&COPY;&REG;"), "&<>\"©®");
    assert_eq!(t("&auml;&Ouml;&szlig;&eacute;&ccedil;&ntilde;&euro;&trade;"), "äÖßéçñ€™");
    // Legacy names without ';' in text.
    assert_eq!(t("&amp &lt3 &copy2024 &notit;"), "& <3 ©2024 ¬it;");
    // Non-legacy names need ';'.
    assert_eq!(t("&hellip &apos x"), "&hellip &apos x");
    // Unknown names stay.
    assert_eq!(t("&bogus; & &; &#; &#x; &#xyz"), "&bogus; & &; &#; &#x; &#xyz");
    // Numeric.
    assert_eq!(t("&#65;&#x42;&#X43;&#0068&#x45"), "ABCDE");
    assert_eq!(t("&#128512;&#x1F600;"), "😀😀");
    assert_eq!(t("&#0;&#xD800;&#xDFFF;&#x110000;&#99999999999999999999;"), "\u{FFFD}".repeat(5));
    assert_eq!(t("&#x80;&#x85;&#x9F;&#x81;&#150;"), "\u{20AC}\u{2026}\u{178}\u{81}\u{2013}");
    assert_eq!(t("&#xFFFE;&#1;"), "\u{FFFE}\u{1}");
    // References never create markup.
    assert_eq!(
        san("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "&lt;script&gt;alert(1)&lt;/script&gt;"
    );
    // NUL is dropped from text; CRLF becomes LF.
    assert_eq!(t("a\0b\r\nc\rd"), "ab\nc\nd");
}

#[test]
fn attribute_references_and_the_legacy_rule() {
    let href = |s: &str| match sanitize(s, BASE, &URLS).first() {
        Some(Node::Element { href, .. }) => href.clone(),
        _ => None,
    };
    assert_eq!(
        href("<a href=\"https://x.example/?a=1&amp;b=2\">l</a>"),
        Some("https://x.example/?a=1&b=2".into())
    );
    // "&copy=" in an attribute is not decoded (legacy name followed by '=').
    assert_eq!(
        href("<a href=\"https://x.example/?x=1&copy=2\">l</a>"),
        Some("https://x.example/?x=1&copy=2".into())
    );
    assert_eq!(
        href("<a href=\"https://x.example/?&copyx\">l</a>"),
        Some("https://x.example/?&copyx".into())
    );
    assert_eq!(
        href("<a href=\"https://x.example/?&copy;x\">l</a>"),
        Some("https://x.example/?©x".into())
    );
    assert_eq!(href("<a href='https://x.example/'>l</a>"), Some("https://x.example/".into()));
    assert_eq!(href("<a href=https://x.example/>l</a>"), Some("https://x.example/".into()));
    // The first href wins.
    assert_eq!(
        href("<a href=https://x.example/ href=javascript:alert(1)>l</a>"),
        Some("https://x.example/".into())
    );
    assert_eq!(href("<a HREF=\"https://x.example/\">l</a>"), Some("https://x.example/".into()));
}

#[test]
fn link_schemes_and_resolution() {
    let cases = [
        ("https://x.example/a", Some("https://x.example/a")),
        ("mailto:a@example.com?subject=x", Some("mailto:a@example.com?subject=x")),
        ("http://localhost:8000/x", Some("http://localhost:8000/x")),
        ("http://app.localhost/x", Some("http://app.localhost/x")),
        ("http://127.0.0.1/x", Some("http://127.0.0.1/x")),
        ("http://[::1]/x", Some("http://[::1]/x")),
        ("http://x.example/", None),
        ("javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        (" \tjava\nscript:alert(1)", None),
        ("&#106;avascript:alert(1)", None),
        ("javascript&colon;alert(1)", None),
        ("java&Tab;script&colon;alert(1)", None),
        ("javascript&#58;alert(1)", None),
        ("j&#x61;vascript:alert(1)", None),
        ("data:text/html,<script>", None),
        ("vbscript:x", None),
        ("ftp://x.example/", None),
        ("//x.example/p", Some("https://x.example/p")),
        ("/abs", Some("https://app.example/abs")),
        ("rel/x", Some("https://app.example/dir/rel/x")),
        ("../up", Some("https://app.example/dir/../up")),
        ("?q=2", Some("https://app.example/dir/page.html?q=2")),
        ("#top", Some("https://app.example/dir/page.html?q=1#top")),
        ("", Some("https://app.example/dir/page.html?q=1")),
        ("https:other", Some("https://app.example/dir/other")),
        ("\\\\x.example\\p", Some("https:\\\\x.example\\p")),
        ("http:foo", None),
    ];
    for (href, expected) in cases {
        let html = format!("<a href=\"{href}\">l</a>");
        let nodes = sanitize(&html, BASE, &URLS);
        let got = match nodes.first() {
            Some(Node::Element { tag: "a", href, .. }) => href.clone(),
            Some(Node::Text(t)) => {
                assert_eq!(t, "l", "{href}: unwrapped keeps the content");
                None
            }
            other => panic!("{href}: {other:?}"),
        };
        assert_eq!(got.as_deref(), expected, "{href}");
    }
    // The resolved URL really is where the browser would go.
    let (_, p) = resolve_url("../up", BASE, &URLS).unwrap();
    assert_eq!((p.host.as_str(), p.path.as_str()), ("app.example", "/up"));
    let (_, p) = resolve_url("\\\\x.example\\p", BASE, &URLS).unwrap();
    assert_eq!((p.host.as_str(), p.path.as_str()), ("x.example", "/p"));
    // An http base on loopback keeps relative links; "http:foo" is relative to it.
    let local = "http://localhost:7801/shop/";
    let nodes = sanitize("<a href=\"http:foo\">l</a><a href=\"/x\">m</a>", local, &URLS);
    assert_eq!(
        show(&nodes),
        "<a href=\"http://localhost:7801/shop/foo\">l</a><a href=\"http://localhost:7801/x\">m</a>"
    );
    // Opaque or missing bases: only absolute links survive.
    assert_eq!(
        show(&sanitize(
            "<a href=\"x\">l</a><a href=\"https://y.example/\">m</a>",
            "about:blank",
            &URLS
        )),
        "l<a href=\"https://y.example/\">m</a>"
    );
    assert_eq!(show(&sanitize("<a href=\"x\">l</a>", "", &URLS)), "l");
    // An a without href is unwrapped.
    assert_eq!(san("<a name=x>l</a>"), "l");
}

#[test]
fn tree_building_rules() {
    assert_eq!(san("<p>a<p>b"), "<p>a</p><p>b</p>");
    assert_eq!(
        san("<a href=https://a.example/>1<a href=https://b.example/>2</a>3"),
        "<a href=\"https://a.example/\">1</a><a href=\"https://b.example/\">2</a>3"
    );
    assert_eq!(
        san("<a href=https://a.example/>1<a href=javascript:x>2</a>3</a>4"),
        "<a href=\"https://a.example/\">1</a>234"
    );
    assert_eq!(san("<b><i>x</b>y</i>"), "<b><i>x</i></b>y");
    assert_eq!(san("</b>x</p></span>"), "x");
    assert_eq!(san("a</br>b<br/>c"), "a<br>b<br>c");
    assert_eq!(san("<b>open"), "<b>open</b>");
    assert_eq!(san("<div><b>x</div>y</b>"), "<b>xy</b>");
    assert_eq!(san("<a href=javascript:x><b>k</b></a>"), "<b>k</b>");
}

#[test]
fn depth_is_bounded() {
    let n = 200;
    let html = format!("{}x{}", "<b>".repeat(n), "</b>".repeat(n));
    let nodes = sanitize(&html, BASE, &URLS);
    assert_eq!(max_depth(&nodes), MAX_DEPTH);
    assert_eq!(text_content(&nodes), "x");
    // Unwrapped deep end tags close nothing; the outer elements close in order.
    let html = format!(
        "{}x{}y</b>z",
        "<span>".repeat(64) + "<b>",
        "</b>".to_string() + &"</span>".repeat(64)
    );
    let nodes = sanitize(&html, BASE, &URLS);
    assert_eq!(max_depth(&nodes), 64);
    assert_eq!(text_content(&nodes), "xyz");
    // Hostile depth of every kind completes.
    for piece in ["<p>", "<a href=https://x.example/>", "<span>", "<div>", "<em><i>"] {
        let nodes = sanitize(&piece.repeat(50_000), BASE, &URLS);
        assert!(max_depth(&nodes) <= MAX_DEPTH, "{piece}");
    }
}

fn max_depth(nodes: &[Node]) -> usize {
    nodes
        .iter()
        .map(|n| match n {
            Node::Text(_) => 0,
            Node::Element { children, .. } => 1 + max_depth(children),
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn large_hostile_inputs_are_linear() {
    let n = 200_000;
    let inputs = [
        "<".repeat(n),
        "&".repeat(n),
        "&#".repeat(n),
        "&amp".repeat(n),
        "&#x1F600".repeat(n / 4),
        "<!--".repeat(n / 2),
        "<!".repeat(n / 2),
        "</".repeat(n / 2),
        "<a ".repeat(n / 3),
        format!("<b {}>", "x=1 ".repeat(n / 4)),
        format!("<a {}>", "href=https://x.example/ ".repeat(n / 20)),
        "<script>".repeat(n / 8),
        format!("<script>{}", "</scrip".repeat(n / 8)),
        format!("<template>{}", "<template>".repeat(n / 10)),
        "<svg><math>".repeat(n / 10),
        "-->".repeat(n / 3),
        format!("<!--{}", "--".repeat(n / 2)),
    ];
    let start = std::time::Instant::now();
    for input in &inputs {
        let _ = sanitize(input, BASE, &URLS);
    }
    // Generous: a quadratic algorithm would take minutes on these.
    assert!(start.elapsed().as_secs() < 60, "took {:?}", start.elapsed());
}

/// xorshift64*: a deterministic PRNG for the randomized test (no dependency, no seed file).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Walks a tree checking the sanitiser's output invariants.
fn check_tree(nodes: &[Node], depth: usize, input: &str) {
    assert!(depth <= MAX_DEPTH, "too deep for {input:?}");
    for n in nodes {
        if let Node::Element { tag, href, children } = n {
            assert!(KEPT_ELEMENTS.contains(tag), "{tag} from {input:?}");
            assert!(!DROPPED_ELEMENTS.contains(tag));
            if *tag == "a" {
                let h = href.as_deref().expect("kept a has href");
                let p = URLS.parse(h).expect("href parses");
                assert!(
                    p.scheme == "https"
                        || p.scheme == "mailto"
                        || (p.scheme == "http" && is_loopback_host(&p.host)),
                    "{h} from {input:?}"
                );
            } else {
                assert!(href.is_none());
            }
            if *tag == "br" {
                assert!(children.is_empty());
            }
            check_tree(children, depth + 1, input);
        }
    }
}

#[test]
fn randomized_inputs_never_panic_and_never_keep_dropped_tags() {
    const PIECES: &[&str] = &[
        "<",
        ">",
        "/",
        "</",
        "<!--",
        "-->",
        "<!",
        "<?",
        "=",
        "\"",
        "'",
        " ",
        "\t",
        "\n",
        "\r",
        "\0",
        "&",
        "&#",
        "&#x",
        ";",
        "amp",
        "lt",
        "copy",
        "1",
        "9",
        "F",
        "x",
        "é",
        "😀",
        "\u{FFFD}",
        "a",
        "b",
        "p",
        "br",
        "span",
        "em",
        "strong",
        "i",
        "script",
        "style",
        "svg",
        "math",
        "template",
        "iframe",
        "title",
        "textarea",
        "select",
        "head",
        "plaintext",
        "xmp",
        "div",
        "href",
        "href=",
        "javascript:",
        "https://e.example/",
        "http://localhost/",
        "mailto:m@e",
        "//",
        "\\",
        "on",
        "click",
        "SCRIPT",
        "Svg",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..20_000 {
        let input = if round % 4 == 0 {
            // Raw random bytes (lossily made UTF-8).
            let len = rng.below(64);
            let bytes: Vec<u8> = (0..len).map(|_| (rng.next() & 0xFF) as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            let len = rng.below(40);
            (0..len).map(|_| PIECES[rng.below(PIECES.len())]).collect::<String>()
        };
        let nodes = sanitize(&input, BASE, &URLS);
        check_tree(&nodes, 0, &input);
        // Everything after an unclosed dropped element is gone, whatever follows, unless the
        // input itself names the element (and so may close it).
        let tag = DROPPED_ELEMENTS[rng.below(DROPPED_ELEMENTS.len())];
        if !is_void_dropped(tag) && !input.to_ascii_lowercase().contains(tag) {
            let wrapped = format!("<b>k</b><{tag}>{input}SECRET");
            assert_eq!(show(&sanitize(&wrapped, BASE, &URLS)), "<b>k</b>", "{wrapped:?}");
        }
    }
}

#[test]
fn sorted_named_reference_table() {
    for w in NAMED_REFS.windows(2) {
        assert!(w[0].0 < w[1].0, "{} before {}", w[0].0, w[1].0);
    }
    assert!(NAMED_REFS.iter().all(|(n, _, _)| n.len() <= MAX_REF_NAME));
    // The whole HTML 4 Latin-1 block (160–255) is there.
    let mut latin1: Vec<u32> = NAMED_REFS
        .iter()
        .filter_map(|(_, v, _)| v.chars().next().map(|c| c as u32))
        .filter(|c| (0xA0..=0xFF).contains(c))
        .collect();
    latin1.sort_unstable();
    latin1.dedup();
    assert_eq!(latin1.len(), 96);
}
