//! An article page's text and metadata: the main content as a reader sees
//! it (navigation, related links, ads, comments and footers left out), by
//! `dom_smoothie`, a port of Mozilla's Readability (what Firefox's reader
//! view uses), which also reads the page's JSON-LD (`NewsArticle`
//! headline, author, datePublished) and Open Graph / Dublin Core metadata.

use chrono::{DateTime, Utc};
use dom_smoothie::{Config, Readability, TextMode};

/// Elements parsed at most: a real article page has a few thousand; a page
/// built to be slow does not get to use the whole service.
const MAX_ELEMENTS: usize = 60_000;

#[derive(Debug, Clone, PartialEq)]
pub struct PageArticle {
    /// The headline (JSON-LD, Open Graph or `<title>`, in that order).
    pub headline: Option<String>,
    pub byline: Option<String>,
    pub published_at: Option<DateTime<Utc>>,
    pub site_name: Option<String>,
    /// The document's language, as it declares it.
    pub lang: Option<String>,
    /// The article's text: paragraphs separated by a blank line, no
    /// control characters.
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("the page holds no article text")]
    NoArticle,
    #[error("the page has too many elements to read ({0})")]
    TooLarge(usize),
    #[error("the page's address is not absolute")]
    BadAddress,
}

/// Reads the article on the page `html` fetched from `address` (used to
/// resolve relative links).
pub fn read_page(html: &str, address: &str) -> Result<PageArticle, PageError> {
    let config = Config {
        max_elements_to_parse: MAX_ELEMENTS,
        text_mode: TextMode::Formatted,
        // Readability's test for "is this page an article" asks for
        // paragraphs of 140 characters and more; a CJK sentence says in 40
        // characters what English says in 140, so the bar is lower here.
        readable_min_content_length: 60,
        readable_min_score: 5.0,
        ..Config::default()
    };
    let mut readability =
        Readability::new(html, Some(address), Some(config)).map_err(from_readability)?;
    // A home page, a section front or an error page is not an article,
    // though Readability would still pick its largest block of text.
    if !readability.is_probably_readable() {
        return Err(PageError::NoArticle);
    }
    let article = readability.parse().map_err(from_readability)?;
    let body = tidy(&article.text_content);
    if body.is_empty() {
        return Err(PageError::NoArticle);
    }
    let present = |s: Option<String>| s.map(|s| tidy_line(&s)).filter(|s| !s.is_empty());
    Ok(PageArticle {
        headline: present(Some(article.title)),
        byline: present(article.byline),
        published_at: article
            .published_time
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t.trim()).ok())
            .map(|t| t.with_timezone(&Utc)),
        site_name: present(article.site_name),
        lang: present(article.lang),
        body,
    })
}

fn from_readability(e: dom_smoothie::ReadabilityError) -> PageError {
    match e {
        dom_smoothie::ReadabilityError::TooManyElements(found, _) => PageError::TooLarge(found),
        dom_smoothie::ReadabilityError::BadDocumentURL => PageError::BadAddress,
        _ => PageError::NoArticle,
    }
}

/// Paragraphs separated by one blank line; inside each, lines trimmed and
/// runs of spaces one space; no control characters.
fn tidy(text: &str) -> String {
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for line in text.lines() {
        let line = tidy_line(line);
        if line.is_empty() {
            if !current.is_empty() {
                paragraphs.push(current.join("\n"));
                current.clear();
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        paragraphs.push(current.join("\n"));
    }
    paragraphs.join("\n\n")
}

fn tidy_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut space = false;
    for c in line.chars() {
        if c.is_whitespace() {
            space = !out.is_empty();
        } else if !c.is_control() {
            if space {
                out.push(' ');
                space = false;
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEWS_PAGE: &str = r#"<!doctype html>
<html lang="en"><head>
<title>Ferry search widens | The Daily Example</title>
<meta property="og:site_name" content="The Daily Example">
<script type="application/ld+json">
{"@context":"https://schema.org","@type":"NewsArticle","headline":"Ferry search widens after logbook found",
 "author":[{"@type":"Person","name":"Ana Robles"}],"datePublished":"2026-11-27T09:40:00+01:00"}
</script>
<script>window.dataLayer=[{"page":"article","ts":1764236400}];</script>
</head><body>
<header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/sport">Sport</a></nav>
<div class="ticker">Updated 3 minutes ago &middot; 14:02 GMT</div></header>
<main><article>
<h1>Ferry search widens after logbook found</h1>
<p class="byline">By Ana Robles</p>
<p>Divers recovered the ferry&rsquo;s logbook on Thursday, the coast guard said on Friday, and the
search area was widened to the north of the island where the vessel went down.</p>
<p>&ldquo;The sea was calm that night,&rdquo; the minister told reporters. The government has officially
identified 17 citizens among the passengers, according to a statement.</p>
<p>Officials said the vessel had apparently been carrying more passengers than its licence allowed,
and an inquiry into the operator would begin next week.</p>
</article>
<aside class="related"><h2>Related</h2><ul><li><a href="/a">Storm warnings</a></li><li><a href="/b">Port strike</a></li></ul></aside>
</main>
<footer>&copy; 2026 The Daily Example. <a href="/privacy">Privacy</a></footer>
<div id="comments"><p>Comment by reader123: first!</p></div>
</body></html>"#;

    #[test]
    fn the_article_without_its_chrome_and_the_json_ld_metadata() {
        let page = read_page(NEWS_PAGE, "https://news.example/world/ferry").unwrap();
        assert_eq!(
            page.headline.as_deref(),
            Some("Ferry search widens after logbook found")
        );
        assert_eq!(page.byline.as_deref(), Some("Ana Robles"));
        assert_eq!(
            page.published_at,
            Some("2026-11-27T08:40:00Z".parse().unwrap())
        );
        assert_eq!(page.site_name.as_deref(), Some("The Daily Example"));
        assert!(
            page.body
                .contains("Divers recovered the ferry’s logbook on Thursday"),
            "{}",
            page.body
        );
        assert!(
            page.body
                .contains("“The sea was calm that night,” the minister told reporters.")
        );
        for chrome in [
            "Updated 3 minutes ago",
            "Storm warnings",
            "Privacy",
            "first!",
            "Sport",
            "dataLayer",
        ] {
            assert!(!page.body.contains(chrome), "{chrome} in {}", page.body);
        }
        // Paragraphs stay apart, each on its own.
        assert!(page.body.contains("went down.\n\n"), "{}", page.body);
    }

    #[test]
    fn new_chrome_around_the_same_article_reads_the_same() {
        let first = read_page(NEWS_PAGE, "https://news.example/world/ferry").unwrap();
        let churned = NEWS_PAGE
            .replace(
                "Updated 3 minutes ago &middot; 14:02 GMT",
                "Updated 1 minute ago &middot; 14:04 GMT",
            )
            .replace("\"ts\":1764236400", "\"ts\":1764236520")
            .replace("Storm warnings", "Election night live")
            .replace("<p>Divers", "\n\n   <p>Divers");
        let second = read_page(&churned, "https://news.example/world/ferry").unwrap();
        assert_eq!(
            super::super::change::compare(&first.body, &second.body),
            super::super::change::Change::Same,
            "{}\n---\n{}",
            first.body,
            second.body
        );
    }

    #[test]
    fn articles_in_other_scripts_and_directions() {
        let arabic = r#"<html lang="ar" dir="rtl"><head><title>الوزير يعلن</title></head><body>
<nav>الرئيسية | العالم</nav><article>
<p>قال وزير الداخلية يوم الجمعة إن السلطات تعرفت رسمياً على سبعة عشر مواطناً بين الركاب، وإن البحث سيستمر حتى نهاية الأسبوع المقبل في المنطقة الشمالية من الجزيرة.</p>
<p>وأضاف الوزير أن التحقيق مع الشركة المشغلة سيبدأ الأسبوع المقبل، بحسب بيان رسمي صدر في وقت متأخر من الليل.</p>
</article></body></html>"#;
        let page = read_page(arabic, "https://news.example/ar/1").unwrap();
        assert!(page.body.starts_with("قال وزير الداخلية"), "{}", page.body);
        assert_eq!(page.lang.as_deref(), Some("ar"));

        let japanese = r#"<html lang="ja"><head><title>フェリー捜索</title></head><body><article>
<p>海上保安庁は金曜日、ダイバーが木曜日にフェリーの航海日誌を回収したと発表した。捜索範囲は島の北側に拡大された。政府は乗客のうち17人の市民を正式に確認したと述べた。</p>
<p>「その夜、海は穏やかだった」と大臣は記者団に語った。運航会社に対する調査は来週始まる予定だという。関係者によると、船は定員を超える乗客を乗せていた可能性がある。</p>
</article></body></html>"#;
        let page = read_page(japanese, "https://news.example/ja/1").unwrap();
        assert!(
            page.body
                .contains("「その夜、海は穏やかだった」と大臣は記者団に語った。"),
            "{}",
            page.body
        );
    }

    #[test]
    fn a_page_without_an_article_says_so() {
        assert_eq!(
            read_page(
                "<html><body><nav><a href='/'>Home</a></nav></body></html>",
                "https://news.example/"
            ),
            Err(PageError::NoArticle)
        );
        assert_eq!(
            read_page("<p>text</p>", "not an address"),
            Err(PageError::BadAddress)
        );
        assert_eq!(
            read_page("", "https://news.example/"),
            Err(PageError::NoArticle)
        );
    }

    #[test]
    fn control_characters_never_reach_the_text() {
        let page = read_page(
            "<html><body><article><p>The minister said\u{0007} on Friday that 17 citizens were identified among the passengers of the ferry that sank off the northern coast of the island.</p></article></body></html>",
            "https://news.example/a",
        )
        .unwrap();
        assert!(
            !page.body.chars().any(|c| c.is_control() && c != '\n'),
            "{:?}",
            page.body
        );
        assert!(page.body.contains("said on Friday"));
    }
}
