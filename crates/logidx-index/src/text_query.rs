//! The boolean structure of a query string, parsed here rather than by tantivy's parser, and
//! the tantivy query its text part becomes.
//!
//! Precedence as in Lucene and GitHub's search: `NOT` (also `!`, `-`) binds tightest, then
//! `AND` (also `&&`, or nothing between two terms), then `OR` (also `||`). A negation that
//! stands alone means "every line except", so `NOT a AND NOT b` and `a OR NOT b` mean what
//! they say. Filters (`field:value`) are only taken at the top level, ANDed with the rest.
//!
//! A bare word of 7 to 40 hex digits with at least one letter (`44875c6`, as a commit is
//! pasted) is a [`Text::Commit`]: true on a line that holds it as a word, and on every line of
//! a run whose head sha starts with it. A quoted one, or one of digits alone (more likely a
//! number or an id), is a plain word.

use std::fmt;

use tantivy::query::{
    AllQuery, BitSetDocSet, BooleanQuery, ConstScorer, EnableScoring, Explanation, Occur,
    PhraseQuery, Query as TantivyQuery, Scorer, TermQuery, Weight,
};
use tantivy::schema::{Field, IndexRecordOption, Term};
use tantivy::{BitSet, DocId, DocSet, Score, SegmentReader, TERMINATED};

use crate::query::{FILTER_NAMES, MAX_NESTING, Problem, SyntaxError};
use crate::tokenizer::tokenize;

/// The text part of a query, its words already tokenized as the index tokenizes lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Text {
    /// A word or phrase: its tokens in order (one token is a term).
    Words(Vec<String>),
    /// Lines the inner text does not match.
    Not(Box<Text>),
    /// Lines every part matches.
    And(Vec<Text>),
    /// Lines some part matches.
    Or(Vec<Text>),
    /// A bare sha-like word ([`is_sha_like`]), lowercased: lines holding it, and every line of
    /// the runs whose head sha starts with it. Over texts alone it is the word; the search
    /// splits the steps by sha (`Query::by_commit`).
    Commit(String),
}

/// What a text is once some of its commit words are taken as true: every line, no line, or
/// a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Truth {
    All,
    Nothing,
    Some(Text),
}

/// Whether a word is read as a commit's prefix: 7 to 40 hex digits, at least one of them a
/// letter (a run of digits alone is more likely a number or an id).
pub(crate) fn is_sha_like(word: &str) -> bool {
    (7..=40).contains(&word.len())
        && word.bytes().all(|b| b.is_ascii_hexdigit())
        && word.bytes().any(|b| b.is_ascii_alphabetic())
}

/// Something a query was read as that its writer may not have meant, said rather than guessed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Note {
    /// A lowercase `and`, `or` or `not`, searched as a word.
    OperatorAsWord {
        /// The word as written.
        word: String,
    },
    /// Text with a colon whose start is not a field (`net::tests::x`, `https://…`, `C:\x`),
    /// searched as a phrase of its words.
    NotAField {
        /// The text as written.
        text: String,
        /// The part before the colon.
        name: String,
    },
    /// A word with nothing searchable in it (only punctuation), left out of the query.
    Ignored {
        /// The word as written.
        word: String,
    },
    /// A bare word of 7 to 40 hex digits, read as a commit's prefix as well as a word.
    CommitPrefix {
        /// The word as written.
        word: String,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::OperatorAsWord { word } => write!(
                f,
                "`{word}` is searched as a word; write {} for the operator, or \"{word}\" to \
                 silence this note",
                word.to_ascii_uppercase()
            ),
            Note::NotAField { text, name } => {
                write!(f, "`{text}` is searched as text: `{name}` is not a field")
            }
            Note::Ignored { word } => {
                write!(
                    f,
                    "`{word}` has no letters, digits or symbols and is ignored"
                )
            }
            Note::CommitPrefix { word } => write!(
                f,
                "`{word}` also matches every line of the runs of commits starting with it; \
                 write \"{word}\" to search only the text"
            ),
        }
    }
}

/// A `field:value` filter as written at the top level of a query.
pub(crate) struct WrittenFilter {
    pub(crate) negated: bool,
    /// Lowercased, one of [`FILTER_NAMES`].
    pub(crate) name: String,
    /// Unquoted.
    pub(crate) value: String,
    /// Where it starts, in characters.
    pub(crate) at: usize,
}

/// A query string read: its text part (`None`: every line), top-level filters and notes.
pub(crate) struct Parsed {
    pub(crate) text: Option<Text>,
    pub(crate) filters: Vec<WrittenFilter>,
    pub(crate) notes: Vec<Note>,
}

/// Reads `input`; with `filters` false, `name:value` is text.
pub(crate) fn parse(input: &str, filters: bool) -> Result<Parsed, SyntaxError> {
    let mut notes = Vec::new();
    let lexemes = lex(input, filters, &mut notes)?;
    let mut parser = Parser {
        input,
        lexemes: &lexemes,
        next: 0,
        nesting: 0,
    };
    let mut parsed = Parsed {
        text: None,
        filters: Vec::new(),
        notes,
    };
    if lexemes.is_empty() {
        return Ok(parsed);
    }
    let node = parser.or()?;
    if let Some(lexeme) = lexemes.get(parser.next) {
        // Only a `)` can stop the top level early, and the lexer pairs them.
        return Err(parser.misplaced(Problem::UnopenedParenthesis, lexeme.at));
    }
    let conjuncts = match node {
        Node::And(nodes) => nodes,
        node => vec![node],
    };
    let mut texts = Vec::new();
    for node in conjuncts {
        let (negated, inner) = node.peel();
        if let Node::Term {
            term: Atom::Filter { name, value },
            at,
            depth,
        } = inner
        {
            if *depth > 0 {
                return Err(parser.misplaced(Problem::FilterInParentheses, *at));
            }
            parsed.filters.push(WrittenFilter {
                negated,
                name: name.clone(),
                value: value.clone(),
                at: *at,
            });
            continue;
        }
        if let Some((at, depth)) = node.first_filter() {
            let problem = if depth > 0 {
                Problem::FilterInParentheses
            } else {
                Problem::FilterOred
            };
            return Err(parser.misplaced(problem, at));
        }
        if let Some(text) = node.into_text(filters, &mut parsed.notes) {
            texts.push(text);
        }
    }
    parsed.text = one_or(texts, Text::And, and_parts);
    if parsed.text.is_none() && parsed.filters.is_empty() {
        return Err(SyntaxError::NothingToSearch {
            query: input.to_owned(),
        });
    }
    Ok(parsed)
}

/// The tantivy query over `field` (tokenized as the index does) that `text` means; `None`
/// matches every document.
pub(crate) fn tantivy_query(text: Option<&Text>, field: Field) -> Box<dyn TantivyQuery> {
    match text {
        None => Box::new(AllQuery),
        Some(text) => build(text, field),
    }
}

fn build(text: &Text, field: Field) -> Box<dyn TantivyQuery> {
    let term = |token: &str| Term::from_field_text(field, token);
    match text {
        Text::Words(tokens) if tokens.len() == 1 => Box::new(TermQuery::new(
            term(&tokens[0]),
            IndexRecordOption::WithFreqs,
        )),
        Text::Commit(word) => Box::new(TermQuery::new(term(word), IndexRecordOption::WithFreqs)),
        Text::Words(tokens) => Box::new(PhraseQuery::new(tokens.iter().map(|t| term(t)).collect())),
        Text::Not(inner) => Box::new(BooleanQuery::new(vec![
            (Occur::Must, Box::new(AllQuery)),
            (Occur::MustNot, excluded(inner, field)),
        ])),
        Text::And(parts) => {
            let mut clauses: Vec<(Occur, Box<dyn TantivyQuery>)> = parts
                .iter()
                .map(|part| match part {
                    Text::Not(inner) => (Occur::MustNot, excluded(inner, field)),
                    part => (Occur::Must, build(part, field)),
                })
                .collect();
            // Tantivy matches nothing with exclusions alone.
            if clauses.iter().all(|(occur, _)| *occur == Occur::MustNot) {
                clauses.push((Occur::Must, Box::new(AllQuery)));
            }
            Box::new(BooleanQuery::new(clauses))
        }
        Text::Or(parts) => Box::new(BooleanQuery::new(
            parts
                .iter()
                .map(|part| (Occur::Should, build(part, field)))
                .collect(),
        )),
    }
}

/// `text` built to be excluded. Tantivy's phrase scorer cannot be an exclusion (an empty one
/// is asked for documents before its end, which it refuses), so a text with a phrase is
/// excluded through the set of documents it matches.
fn excluded(text: &Text, field: Field) -> Box<dyn TantivyQuery> {
    let query = build(text, field);
    if text.has_phrase() {
        Box::new(Materialized(query))
    } else {
        query
    }
}

/// A query's documents, collected into a set before they are used.
struct Materialized(Box<dyn TantivyQuery>);

impl Clone for Materialized {
    fn clone(&self) -> Materialized {
        Materialized(self.0.box_clone())
    }
}

impl fmt::Debug for Materialized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Materialized").field(&self.0).finish()
    }
}

impl TantivyQuery for Materialized {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let inner = self.0.weight(scoring)?;
        Ok(Box::new(MaterializedWeight(inner)))
    }
}

struct MaterializedWeight(Box<dyn Weight>);

impl Weight for MaterializedWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let mut docs = BitSet::with_max_value(reader.max_doc());
        let mut scorer = self.0.scorer(reader, boost)?;
        while scorer.doc() != TERMINATED {
            docs.insert(scorer.doc());
            scorer.advance();
        }
        Ok(Box::new(ConstScorer::new(BitSetDocSet::from(docs), boost)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.0.explain(reader, doc)
    }
}

impl Text {
    fn has_phrase(&self) -> bool {
        match self {
            Text::Words(tokens) => tokens.len() > 1,
            Text::Commit(_) => false,
            Text::Not(inner) => inner.has_phrase(),
            Text::And(parts) | Text::Or(parts) => parts.iter().any(Text::has_phrase),
        }
    }

    /// The text as a query string that parses back to it.
    pub(crate) fn render(&self) -> String {
        match self {
            // A sha-like word stays quoted, so that it parses back to a word.
            Text::Words(tokens) if tokens.len() == 1 && !is_sha_like(&tokens[0]) => {
                tokens[0].clone()
            }
            Text::Words(tokens) => format!("\"{}\"", tokens.join(" ")),
            Text::Commit(word) => word.clone(),
            Text::Not(inner) => match **inner {
                Text::Words(_) | Text::Commit(_) | Text::Not(_) => {
                    format!("NOT {}", inner.render())
                }
                _ => format!("NOT ({})", inner.render()),
            },
            Text::And(parts) => joined(parts, " ", |part| matches!(part, Text::Or(_))),
            Text::Or(parts) => joined(parts, " OR ", |part| matches!(part, Text::And(_))),
        }
    }

    /// The tokens of the words the text asks for (not those it excludes), to highlight.
    pub(crate) fn positive_tokens<'t>(&'t self, into: &mut Vec<&'t str>) {
        match self {
            Text::Words(tokens) => into.extend(tokens.iter().map(String::as_str)),
            Text::Commit(word) => into.push(word),
            Text::Not(_) => {}
            Text::And(parts) | Text::Or(parts) => {
                for part in parts {
                    part.positive_tokens(into);
                }
            }
        }
    }
}

impl Text {
    /// The distinct commit words of the text, sorted.
    pub(crate) fn commits(&self) -> Vec<String> {
        fn walk(text: &Text, into: &mut Vec<String>) {
            match text {
                Text::Commit(word) => into.push(word.clone()),
                Text::Words(_) => {}
                Text::Not(inner) => walk(inner, into),
                Text::And(parts) | Text::Or(parts) => parts.iter().for_each(|p| walk(p, into)),
            }
        }
        let mut commits = Vec::new();
        walk(self, &mut commits);
        commits.sort();
        commits.dedup();
        commits
    }

    /// The text with the commit words `true_words` true on every line (the others stay
    /// words), simplified.
    pub(crate) fn with_true_commits(&self, true_words: &[&str]) -> Truth {
        match self {
            Text::Commit(word) if true_words.contains(&word.as_str()) => Truth::All,
            Text::Words(_) | Text::Commit(_) => Truth::Some(self.clone()),
            Text::Not(inner) => match inner.with_true_commits(true_words) {
                Truth::All => Truth::Nothing,
                Truth::Nothing => Truth::All,
                Truth::Some(text) => Truth::Some(Text::Not(Box::new(text))),
            },
            Text::And(parts) => {
                let mut kept = Vec::new();
                for part in parts {
                    match part.with_true_commits(true_words) {
                        Truth::All => {}
                        Truth::Nothing => return Truth::Nothing,
                        Truth::Some(text) => kept.push(text),
                    }
                }
                one_or(kept, Text::And, and_parts).map_or(Truth::All, Truth::Some)
            }
            Text::Or(parts) => {
                let mut kept = Vec::new();
                for part in parts {
                    match part.with_true_commits(true_words) {
                        Truth::All => return Truth::All,
                        Truth::Nothing => {}
                        Truth::Some(text) => kept.push(text),
                    }
                }
                one_or(kept, Text::Or, or_parts).map_or(Truth::Nothing, Truth::Some)
            }
        }
    }
}

/// `parts` rendered and joined with `separator`, in parentheses those that `group` says need
/// them.
fn joined(parts: &[Text], separator: &str, group: fn(&Text) -> bool) -> String {
    parts
        .iter()
        .map(|part| match group(part) {
            true => format!("({})", part.render()),
            false => part.render(),
        })
        .collect::<Vec<_>>()
        .join(separator)
}

fn is_operator_word(word: &str) -> bool {
    ["and", "or", "not"]
        .iter()
        .any(|op| word.eq_ignore_ascii_case(op))
}

/// A query string's pieces. Positions are in characters.
#[derive(Debug)]
struct Lexeme {
    kind: Kind,
    at: usize,
    /// Parentheses open around it.
    depth: usize,
}

#[derive(Debug)]
enum Kind {
    Open,
    Close,
    And,
    Or,
    /// `NOT`, `!` or a `-` before a term.
    Not,
    Term(Atom),
}

/// A word, phrase or filter.
#[derive(Debug, Clone)]
enum Atom {
    /// A word or quoted phrase, as written (`quoted`: inside quotes).
    Word { text: String, quoted: bool },
    /// `name:value`: `name` known and lowercased, `value` unquoted.
    Filter { name: String, value: String },
}

fn lex(input: &str, filters: bool, notes: &mut Vec<Note>) -> Result<Vec<Lexeme>, SyntaxError> {
    let chars: Vec<char> = input.chars().collect();
    let misplaced = |problem, at| SyntaxError::Misplaced {
        query: input.to_owned(),
        problem,
        at,
    };
    let mut lexemes = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let depth = open.len();
        let mut push = |kind, at| lexemes.push(Lexeme { kind, at, depth });
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let followed = chars.get(i + 1).is_some_and(|c| !c.is_whitespace());
        match c {
            '(' => {
                push(Kind::Open, i);
                open.push(i);
                i += 1;
                continue;
            }
            ')' => {
                if open.pop().is_none() {
                    return Err(misplaced(Problem::UnopenedParenthesis, i));
                }
                lexemes.push(Lexeme {
                    kind: Kind::Close,
                    at: i,
                    depth: open.len(),
                });
                i += 1;
                continue;
            }
            '-' | '!' if followed && chars[i + 1] != c => {
                push(Kind::Not, i);
                i += 1;
                continue;
            }
            '+' if followed => {
                i += 1;
                continue;
            }
            '"' => {
                let end = (i + 1..chars.len())
                    .find(|&j| chars[j] == '"')
                    .ok_or_else(|| misplaced(Problem::UnclosedQuote, i))?;
                let text: String = chars[i + 1..end].iter().collect();
                push(Kind::Term(Atom::Word { text, quoted: true }), i);
                i = end + 1;
                continue;
            }
            _ => {}
        }
        // A word: to whitespace, a quote, or a `)` closing a group; a `(` inside a word
        // (`unwrap()`, `f(x)`) is part of it with its `)`.
        let start = i;
        let mut inner_parens = 0usize;
        let mut word = String::new();
        while i < chars.len() {
            let c = chars[i];
            if c.is_whitespace() {
                break;
            }
            match c {
                '(' => inner_parens += 1,
                ')' if inner_parens == 0 => break,
                ')' => inner_parens -= 1,
                '"' if filters && field_name(&word).is_some_and(|_| word.ends_with(':')) => {
                    // `field:"value with spaces"`
                    let end = (i + 1..chars.len())
                        .find(|&j| chars[j] == '"')
                        .ok_or_else(|| misplaced(Problem::UnclosedQuote, i))?;
                    word.extend(&chars[i..=end]);
                    i = end + 1;
                    continue;
                }
                '"' => break,
                _ => {}
            }
            word.push(c);
            i += 1;
        }
        let kind = match word.as_str() {
            "AND" | "&&" => Kind::And,
            "OR" | "||" => Kind::Or,
            "NOT" | "!" => Kind::Not,
            _ if filters => word_or_filter(word, notes)?,
            _ => Kind::Term(Atom::Word {
                text: word,
                quoted: false,
            }),
        };
        push(kind, start);
    }
    if let Some(&at) = open.last() {
        return Err(misplaced(Problem::UnclosedParenthesis, at));
    }
    Ok(lexemes)
}

/// The field-shaped start of `word` (letters and `_` before a colon), lowercased.
fn field_name(word: &str) -> Option<String> {
    let (name, _) = word.split_once(':')?;
    (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphabetic() || c == '_'))
        .then(|| name.to_ascii_lowercase())
}

/// A known field's filter; a field misspelt (close to a known one) an error; other text with
/// a colon (pasted paths, URLs, Rust paths) a phrase, with a note.
fn word_or_filter(word: String, notes: &mut Vec<Note>) -> Result<Kind, SyntaxError> {
    let plain = |text| {
        Kind::Term(Atom::Word {
            text,
            quoted: false,
        })
    };
    let Some(name) = field_name(&word) else {
        return Ok(plain(word));
    };
    let (written_name, rest) = word.split_once(':').expect("a colon");
    let separator = rest.starts_with(':') || rest.starts_with("//");
    if FILTER_NAMES.contains(&name.as_str()) && !separator {
        let value = rest
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(rest);
        return Ok(Kind::Term(Atom::Filter {
            name,
            value: value.to_owned(),
        }));
    }
    let pasted = separator || written_name.len() == 1 || rest.contains(['\\', '/', '(', ':']);
    if !pasted && !rest.is_empty() && closest_field(&name).is_some() {
        return Err(SyntaxError::UnknownField { field: name });
    }
    notes.push(Note::NotAField {
        name: written_name.to_owned(),
        text: word.clone(),
    });
    Ok(plain(word))
}

/// The field `name` is most likely a typo of: within one edit for short names, two for
/// longer ones.
pub(crate) fn closest_field(name: &str) -> Option<&'static str> {
    let most = if name.chars().count() <= 4 { 1 } else { 2 };
    FILTER_NAMES
        .iter()
        .map(|field| (edit_distance(name, field), *field))
        .filter(|(distance, _)| *distance <= most)
        .min()
        .map(|(_, field)| field)
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The query as a tree, filters still in it.
#[derive(Debug)]
enum Node {
    /// A term, where it starts (in characters) and inside how many parentheses.
    Term {
        term: Atom,
        at: usize,
        depth: usize,
    },
    Not(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
}

impl Node {
    /// Whether an odd number of NOTs wraps the node, and what they wrap.
    fn peel(&self) -> (bool, &Node) {
        match self {
            Node::Not(inner) => {
                let (negated, node) = inner.peel();
                (!negated, node)
            }
            node => (false, node),
        }
    }

    fn first_filter(&self) -> Option<(usize, usize)> {
        match self {
            Node::Term {
                term: Atom::Word { .. },
                ..
            } => None,
            Node::Term { at, depth, .. } => Some((*at, *depth)),
            Node::Not(inner) => inner.first_filter(),
            Node::And(nodes) | Node::Or(nodes) => nodes.iter().find_map(Node::first_filter),
        }
    }

    /// The node as text, without words that have nothing to search (`None` if nothing is
    /// left), noting lowercase operators and such words; with `commits`, bare sha-like words
    /// are [`Text::Commit`]s, noted too.
    fn into_text(self, commits: bool, notes: &mut Vec<Note>) -> Option<Text> {
        let parts = |nodes: Vec<Node>, notes: &mut Vec<Note>| -> Vec<Text> {
            nodes
                .into_iter()
                .filter_map(|n| n.into_text(commits, notes))
                .collect()
        };
        match self {
            Node::Term {
                term: Atom::Word { text, quoted },
                ..
            } => {
                if commits && !quoted && is_sha_like(&text) {
                    let note = Note::CommitPrefix { word: text.clone() };
                    if !notes.contains(&note) {
                        notes.push(note);
                    }
                    return Some(Text::Commit(text.to_ascii_lowercase()));
                }
                let tokens = tokenize(&text);
                if !quoted && is_operator_word(&text) {
                    notes.push(Note::OperatorAsWord { word: text });
                } else if tokens.is_empty() {
                    notes.push(Note::Ignored { word: text });
                }
                (!tokens.is_empty()).then_some(Text::Words(tokens))
            }
            Node::Term { .. } => unreachable!("filters are taken out first"),
            Node::Not(inner) => inner
                .into_text(commits, notes)
                .map(|t| Text::Not(Box::new(t))),
            Node::And(nodes) => one_or(parts(nodes, notes), Text::And, and_parts),
            Node::Or(nodes) => one_or(parts(nodes, notes), Text::Or, or_parts),
        }
    }
}

fn and_parts(text: Text) -> Result<Vec<Text>, Text> {
    match text {
        Text::And(parts) => Ok(parts),
        text => Err(text),
    }
}

fn or_parts(text: Text) -> Result<Vec<Text>, Text> {
    match text {
        Text::Or(parts) => Ok(parts),
        text => Err(text),
    }
}

/// `parts` as one text: none, the one, or `many` of them, with those that are `many` already
/// (`split` gives their parts) flattened into it.
fn one_or(
    parts: Vec<Text>,
    many: fn(Vec<Text>) -> Text,
    split: fn(Text) -> Result<Vec<Text>, Text>,
) -> Option<Text> {
    let mut parts: Vec<Text> = parts
        .into_iter()
        .flat_map(|part| split(part).unwrap_or_else(|part| vec![part]))
        .collect();
    match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(many(parts)),
    }
}

struct Parser<'a> {
    input: &'a str,
    lexemes: &'a [Lexeme],
    next: usize,
    /// Parentheses and `NOT`s open around the lexeme being read.
    nesting: usize,
}

impl Parser<'_> {
    fn misplaced(&self, problem: Problem, at: usize) -> SyntaxError {
        SyntaxError::Misplaced {
            query: self.input.to_owned(),
            problem,
            at,
        }
    }

    fn peek(&self) -> Option<&Lexeme> {
        self.lexemes.get(self.next)
    }

    fn or(&mut self) -> Result<Node, SyntaxError> {
        let mut nodes = vec![self.and()?];
        while let Some(Lexeme { kind: Kind::Or, .. }) = self.peek() {
            self.next += 1;
            nodes.push(self.and()?);
        }
        Ok(if nodes.len() == 1 {
            nodes.pop().expect("one")
        } else {
            Node::Or(nodes)
        })
    }

    fn and(&mut self) -> Result<Node, SyntaxError> {
        let mut nodes = vec![self.unary()?];
        loop {
            match self.peek().map(|l| &l.kind) {
                Some(Kind::And) => {
                    self.next += 1;
                    nodes.push(self.unary()?);
                }
                Some(Kind::Or | Kind::Close) | None => break,
                Some(_) => nodes.push(self.unary()?),
            }
        }
        Ok(if nodes.len() == 1 {
            nodes.pop().expect("one")
        } else {
            Node::And(nodes)
        })
    }

    fn unary(&mut self) -> Result<Node, SyntaxError> {
        let lexemes = self.lexemes;
        let Some(lexeme) = lexemes.get(self.next) else {
            let last = self.lexemes.last().map_or(0, |l| l.at);
            return Err(self.misplaced(Problem::NothingAfter, last));
        };
        let at = lexeme.at;
        self.next += 1;
        if matches!(lexeme.kind, Kind::Not | Kind::Open) {
            if self.nesting == MAX_NESTING {
                return Err(self.misplaced(Problem::TooDeep, at));
            }
            self.nesting += 1;
        }
        let node = self.nested(lexeme, at);
        if matches!(lexeme.kind, Kind::Not | Kind::Open) {
            self.nesting -= 1;
        }
        node
    }

    fn nested(&mut self, lexeme: &Lexeme, at: usize) -> Result<Node, SyntaxError> {
        match &lexeme.kind {
            Kind::Not => Ok(Node::Not(Box::new(self.unary()?))),
            Kind::Open => {
                if let Some(Lexeme {
                    kind: Kind::Close, ..
                }) = self.peek()
                {
                    return Err(self.misplaced(Problem::EmptyParentheses, at));
                }
                let node = self.or()?;
                // The lexer pairs parentheses, so a `)` comes next.
                self.next += 1;
                Ok(node)
            }
            Kind::Term(term) => Ok(Node::Term {
                term: term.clone(),
                at,
                depth: lexeme.depth,
            }),
            Kind::And | Kind::Or | Kind::Close => {
                // After an operator that wants a term, or where nothing came before.
                match self.next.checked_sub(2).map(|i| &self.lexemes[i]) {
                    Some(previous) if !matches!(previous.kind, Kind::Open) => {
                        Err(self.misplaced(Problem::NothingAfter, previous.at))
                    }
                    _ => Err(self.misplaced(Problem::NothingBefore, at)),
                }
            }
        }
    }
}
