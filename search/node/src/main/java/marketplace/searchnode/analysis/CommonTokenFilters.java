package marketplace.searchnode.analysis;

import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.cjk.CJKBigramFilter;
import org.apache.lucene.analysis.cjk.CJKWidthFilter;
import org.apache.lucene.analysis.core.FlattenGraphFilter;
import org.apache.lucene.analysis.en.EnglishMinimalStemFilter;
import org.apache.lucene.analysis.en.EnglishPossessiveFilter;
import org.apache.lucene.analysis.en.KStemFilter;
import org.apache.lucene.analysis.en.PorterStemFilter;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.apache.lucene.analysis.miscellaneous.TrimFilter;
import org.apache.lucene.analysis.miscellaneous.WordDelimiterGraphFilter;
import org.apache.lucene.analysis.miscellaneous.WordDelimiterIterator;
import org.apache.lucene.analysis.ngram.EdgeNGramTokenFilter;
import org.apache.lucene.analysis.ngram.NGramTokenFilter;
import org.apache.lucene.analysis.reverse.ReverseStringFilter;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.index.IndexSettings;
import org.elasticsearch.index.analysis.AbstractTokenFilterFactory;
import org.elasticsearch.index.analysis.Analysis;
import org.elasticsearch.index.analysis.NormalizingTokenFilterFactory;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.lucene.analysis.miscellaneous.DisableGraphAttribute;

import java.util.List;
import java.util.Locale;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Token filters of analysis-common: same names, settings, defaults and synonym rules. */
final class CommonTokenFilters {

    private CommonTokenFilters() {}

    static IllegalArgumentException notForSynonyms(String name) {
        return new IllegalArgumentException("Token filter [" + name + "] cannot be used to parse synonyms");
    }

    static final class NGram extends AbstractTokenFilterFactory {
        private final int minGram;
        private final int maxGram;
        private final boolean preserveOriginal;

        NGram(IndexSettings indexSettings, Environment environment, String name, Settings settings) {
            super(name, settings);
            this.minGram = settings.getAsInt("min_gram", 1);
            this.maxGram = settings.getAsInt("max_gram", 2);
            this.preserveOriginal = settings.getAsBoolean("preserve_original", false);
            int maxDiff = indexSettings.getMaxNgramDiff();
            if (maxGram - minGram > maxDiff) {
                throw new IllegalArgumentException("The difference between max_gram and min_gram in NGram Tokenizer must be "
                    + "less than or equal to: [" + maxDiff + "] but was [" + (maxGram - minGram) + "]. This limit can be set "
                    + "by changing the [" + IndexSettings.MAX_NGRAM_DIFF_SETTING.getKey() + "] index level setting.");
            }
        }

        @Override
        public TokenStream create(TokenStream tokenStream) {
            return new NGramTokenFilter(tokenStream, minGram, maxGram, preserveOriginal);
        }

        @Override
        public TokenFilterFactory getSynonymFilter() {
            throw notForSynonyms(name());
        }
    }

    static final class EdgeNGram extends AbstractTokenFilterFactory {
        private final int minGram;
        private final int maxGram;
        private final boolean preserveOriginal;
        private final boolean back;

        EdgeNGram(IndexSettings indexSettings, Environment environment, String name, Settings settings) {
            super(name, settings);
            this.minGram = settings.getAsInt("min_gram", 1);
            this.maxGram = settings.getAsInt("max_gram", 2);
            this.preserveOriginal = settings.getAsBoolean("preserve_original", false);
            String side = settings.get("side", "front");
            if (!side.equals("front") && !side.equals("back")) {
                throw new IllegalArgumentException("invalid side: [" + side + "], expected [front] or [back]");
            }
            this.back = side.equals("back");
        }

        @Override
        public TokenStream create(TokenStream tokenStream) {
            if (back) {  // grams from the end: reverse, take front grams, reverse them back
                TokenStream reversed = new ReverseStringFilter(tokenStream);
                return new ReverseStringFilter(new EdgeNGramTokenFilter(reversed, minGram, maxGram, preserveOriginal));
            }
            return new EdgeNGramTokenFilter(tokenStream, minGram, maxGram, preserveOriginal);
        }

        @Override
        public TokenFilterFactory getSynonymFilter() {
            throw notForSynonyms(name());
        }
    }

    static final class WordDelimiterGraph extends AbstractTokenFilterFactory {
        private static final Pattern TYPE_RULE = Pattern.compile("(.*)\\s*=>\\s*(.*)\\s*$");
        // WordDelimiterIterator's character classes (only ALPHA and ALPHANUM are public there)
        private static final byte LOWER = 0x01, UPPER = 0x02, DIGIT = 0x04, SUBWORD_DELIM = 0x08;

        private final byte[] typeTable;
        private final int flags;
        private final CharArraySet protectedWords;
        private final boolean adjustOffsets;

        WordDelimiterGraph(IndexSettings indexSettings, Environment environment, String name, Settings settings) {
            super(name, settings);
            List<String> typeRules = Analysis.getWordList(environment, settings, "type_table");
            this.typeTable = typeRules == null ? WordDelimiterIterator.DEFAULT_WORD_DELIM_TABLE : parseTypes(typeRules);
            int f = 0;
            f |= flag(settings, "generate_word_parts", true, WordDelimiterGraphFilter.GENERATE_WORD_PARTS);
            f |= flag(settings, "generate_number_parts", true, WordDelimiterGraphFilter.GENERATE_NUMBER_PARTS);
            f |= flag(settings, "catenate_words", false, WordDelimiterGraphFilter.CATENATE_WORDS);
            f |= flag(settings, "catenate_numbers", false, WordDelimiterGraphFilter.CATENATE_NUMBERS);
            f |= flag(settings, "catenate_all", false, WordDelimiterGraphFilter.CATENATE_ALL);
            f |= flag(settings, "split_on_case_change", true, WordDelimiterGraphFilter.SPLIT_ON_CASE_CHANGE);
            f |= flag(settings, "preserve_original", false, WordDelimiterGraphFilter.PRESERVE_ORIGINAL);
            f |= flag(settings, "split_on_numerics", true, WordDelimiterGraphFilter.SPLIT_ON_NUMERICS);
            f |= flag(settings, "stem_english_possessive", true, WordDelimiterGraphFilter.STEM_ENGLISH_POSSESSIVE);
            f |= flag(settings, "ignore_keywords", false, WordDelimiterGraphFilter.IGNORE_KEYWORDS);
            this.flags = f;
            this.protectedWords = Analysis.getWordSet(environment, settings, "protected_words");
            this.adjustOffsets = settings.getAsBoolean("adjust_offsets", true);
        }

        private static int flag(Settings settings, String key, boolean defaultValue, int bit) {
            return settings.getAsBoolean(key, defaultValue) ? bit : 0;
        }

        private static byte[] parseTypes(List<String> rules) {
            SortedMap<Character, Byte> typeMap = new TreeMap<>();
            for (String rule : rules) {
                Matcher m = TYPE_RULE.matcher(rule);
                if (!m.find()) {
                    throw new RuntimeException("Invalid Mapping Rule : [" + rule + "]");
                }
                String lhs = unescape(m.group(1).trim());
                if (lhs.length() != 1) {
                    throw new RuntimeException("Invalid Mapping Rule : [" + rule + "]. Only a single character is allowed.");
                }
                String type = m.group(2).trim();
                byte value = switch (type) {
                    case "LOWER" -> LOWER;
                    case "UPPER" -> UPPER;
                    case "ALPHA" -> (byte) WordDelimiterIterator.ALPHA;
                    case "DIGIT" -> DIGIT;
                    case "ALPHANUM" -> (byte) WordDelimiterIterator.ALPHANUM;
                    case "SUBWORD_DELIM" -> SUBWORD_DELIM;
                    default -> throw new RuntimeException("Invalid Mapping Rule : [" + rule + "]. Illegal type [" + type + "]");
                };
                typeMap.put(lhs.charAt(0), value);
            }
            byte[] types = new byte[Math.max(typeMap.lastKey() + 1, WordDelimiterIterator.DEFAULT_WORD_DELIM_TABLE.length)];
            for (int i = 0; i < types.length; i++) {
                types[i] = WordDelimiterIterator.getType(i);
            }
            typeMap.forEach((c, t) -> types[c] = t);
            return types;
        }

        private static String unescape(String s) {
            StringBuilder out = new StringBuilder();
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c == '\\' && i + 1 < s.length()) {
                    char next = s.charAt(++i);
                    switch (next) {
                        case 'n' -> out.append('\n');
                        case 't' -> out.append('\t');
                        case 'r' -> out.append('\r');
                        case 'b' -> out.append('\b');
                        case 'f' -> out.append('\f');
                        case 'u' -> {
                            out.append((char) Integer.parseInt(s.substring(i + 1, i + 5), 16));
                            i += 4;
                        }
                        default -> out.append(next);
                    }
                } else {
                    out.append(c);
                }
            }
            return out.toString();
        }

        @Override
        public TokenStream create(TokenStream tokenStream) {
            return new WordDelimiterGraphFilter(tokenStream, adjustOffsets, typeTable, flags, protectedWords);
        }

        @Override
        public TokenFilterFactory getSynonymFilter() {
            throw notForSynonyms(name());
        }
    }

    static final class CjkBigram extends AbstractTokenFilterFactory {
        private final int flags;
        private final boolean outputUnigrams;

        CjkBigram(IndexSettings indexSettings, Environment environment, String name, Settings settings) {
            super(name, settings);
            this.outputUnigrams = settings.getAsBoolean("output_unigrams", false);
            int f = CJKBigramFilter.HAN | CJKBigramFilter.HIRAGANA | CJKBigramFilter.KATAKANA | CJKBigramFilter.HANGUL;
            for (String script : settings.getAsList("ignored_scripts")) {
                switch (script.toLowerCase(Locale.ROOT)) {
                    case "han" -> f &= ~CJKBigramFilter.HAN;
                    case "hiragana" -> f &= ~CJKBigramFilter.HIRAGANA;
                    case "katakana" -> f &= ~CJKBigramFilter.KATAKANA;
                    case "hangul" -> f &= ~CJKBigramFilter.HANGUL;
                    default -> { }  // unknown scripts are ignored, as in production
                }
            }
            this.flags = f;
        }

        @Override
        public TokenStream create(TokenStream tokenStream) {
            CJKBigramFilter filter = new CJKBigramFilter(tokenStream, flags, outputUnigrams);
            if (outputUnigrams) {
                // Bigrams and unigrams are not aligned: a query built as a graph from this stream
                // would explode into paths. Production marks the stream the same way.
                filter.addAttribute(DisableGraphAttribute.class);
            }
            return filter;
        }

        @Override
        public TokenFilterFactory getSynonymFilter() {
            if (outputUnigrams) {
                throw notForSynonyms(name());
            }
            return this;
        }
    }

    static final class CjkWidth extends AbstractTokenFilterFactory implements NormalizingTokenFilterFactory {
        CjkWidth(IndexSettings indexSettings, Environment environment, String name, Settings settings) {
            super(name, settings);
        }

        @Override
        public TokenStream create(TokenStream tokenStream) {
            return new CJKWidthFilter(tokenStream);
        }
    }

    static final class AsciiFolding extends AbstractTokenFilterFactory implements NormalizingTokenFilterFactory {
        private final boolean preserveOriginal;

        AsciiFolding(IndexSettings indexSettings, Environment environment, String name, Settings settings) {
            super(name, settings);
            this.preserveOriginal = settings.getAsBoolean("preserve_original", false);
        }

        @Override
        public TokenStream create(TokenStream tokenStream) {
            return new ASCIIFoldingFilter(tokenStream, preserveOriginal);
        }

        @Override
        public TokenStream normalize(TokenStream tokenStream) {
            return new ASCIIFoldingFilter(tokenStream, false);  // a normalizer emits one token
        }

        @Override
        public TokenFilterFactory getSynonymFilter() {
            if (!preserveOriginal) {
                return this;
            }
            String name = name();
            return new TokenFilterFactory() {  // rules are parsed with the folded form only
                @Override
                public String name() {
                    return name;
                }

                @Override
                public TokenStream create(TokenStream tokenStream) {
                    return new ASCIIFoldingFilter(tokenStream, false);
                }
            };
        }
    }

    static final class Trim extends AbstractTokenFilterFactory implements NormalizingTokenFilterFactory {
        Trim(IndexSettings indexSettings, Environment environment, String name, Settings settings) {
            super(name, settings);
            if (settings.get("update_offsets") != null) {
                throw new IllegalArgumentException("update_offsets is not supported anymore. Please fix your analysis chain");
            }
        }

        @Override
        public TokenStream create(TokenStream tokenStream) {
            return new TrimFilter(tokenStream);
        }
    }

    static final class FlattenGraph extends AbstractTokenFilterFactory {
        FlattenGraph(IndexSettings indexSettings, Environment environment, String name, Settings settings) {
            super(name, settings);
        }

        @Override
        public TokenStream create(TokenStream tokenStream) {
            return new FlattenGraphFilter(tokenStream);
        }
    }

    static final class PorterStem extends AbstractTokenFilterFactory {
        PorterStem(IndexSettings indexSettings, Environment environment, String name, Settings settings) {
            super(name, settings);
        }

        @Override
        public TokenStream create(TokenStream tokenStream) {
            return new PorterStemFilter(tokenStream);
        }
    }

    static final class KStem extends AbstractTokenFilterFactory {
        KStem(IndexSettings indexSettings, Environment environment, String name, Settings settings) {
            super(name, settings);
        }

        @Override
        public TokenStream create(TokenStream tokenStream) {
            return new KStemFilter(tokenStream);
        }
    }

    /** `stemmer` for English (what this engine uses); other languages are refused clearly. */
    static final class Stemmer extends AbstractTokenFilterFactory {
        private final String language;

        Stemmer(IndexSettings indexSettings, Environment environment, String name, Settings settings) {
            super(name, settings);
            String value = settings.get("language", settings.get("name", "porter"));
            this.language = value.toLowerCase(Locale.ROOT).replace("lightenglish", "light_english")
                .replace("minimalenglish", "minimal_english").replace("possessiveenglish", "possessive_english");
            switch (language) {
                case "english", "porter", "light_english", "kstem", "minimal_english", "possessive_english" -> { }
                default -> throw new IllegalArgumentException("stemmer language [" + value + "] is not available on this "
                    + "local node: it offers the English stemmers of analysis-common only (english, porter, light_english, "
                    + "minimal_english, possessive_english)");
            }
        }

        @Override
        public TokenStream create(TokenStream tokenStream) {
            return switch (language) {
                case "light_english", "kstem" -> new KStemFilter(tokenStream);
                case "minimal_english" -> new EnglishMinimalStemFilter(tokenStream);
                case "possessive_english" -> new EnglishPossessiveFilter(tokenStream);
                default -> new PorterStemFilter(tokenStream);
            };
        }
    }
}
