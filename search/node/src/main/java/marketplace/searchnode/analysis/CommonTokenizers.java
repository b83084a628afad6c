package marketplace.searchnode.analysis;

import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.charfilter.HTMLStripCharFilter;
import org.apache.lucene.analysis.core.KeywordTokenizer;
import org.apache.lucene.analysis.core.WhitespaceTokenizer;
import org.apache.lucene.analysis.ngram.EdgeNGramTokenizer;
import org.apache.lucene.analysis.ngram.NGramTokenizer;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.index.IndexSettings;
import org.elasticsearch.index.analysis.AbstractCharFilterFactory;
import org.elasticsearch.index.analysis.AbstractTokenizerFactory;

import java.io.Reader;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.IntPredicate;

/** Tokenizers and the char filter of analysis-common: same names, settings and defaults. */
final class CommonTokenizers {

    private CommonTokenizers() {}

    /** `token_chars` (letter, digit, whitespace, punctuation, symbol, custom) as one predicate; null = every char. */
    static IntPredicate tokenChars(Settings settings) {
        List<String> classes = settings.getAsList("token_chars");
        if (classes.isEmpty()) {
            return null;
        }
        List<IntPredicate> matchers = new ArrayList<>();
        for (String name : classes) {
            switch (name.toLowerCase(Locale.ROOT)) {
                case "letter" -> matchers.add(Character::isLetter);
                case "digit" -> matchers.add(Character::isDigit);
                case "whitespace" -> matchers.add(Character::isWhitespace);
                case "punctuation" -> matchers.add(c -> switch (Character.getType(c)) {
                    case Character.START_PUNCTUATION, Character.END_PUNCTUATION, Character.OTHER_PUNCTUATION,
                         Character.CONNECTOR_PUNCTUATION, Character.DASH_PUNCTUATION, Character.INITIAL_QUOTE_PUNCTUATION,
                         Character.FINAL_QUOTE_PUNCTUATION -> true;
                    default -> false;
                });
                case "symbol" -> matchers.add(c -> switch (Character.getType(c)) {
                    case Character.CURRENCY_SYMBOL, Character.MATH_SYMBOL, Character.OTHER_SYMBOL,
                         Character.MODIFIER_SYMBOL -> true;
                    default -> false;
                });
                case "custom" -> {
                    String custom = settings.get("custom_token_chars");
                    if (custom == null) {
                        throw new IllegalArgumentException("Token type: [custom] requires setting [custom_token_chars]");
                    }
                    Set<Integer> chars = new HashSet<>();
                    custom.codePoints().forEach(chars::add);
                    matchers.add(chars::contains);
                }
                default -> throw new IllegalArgumentException("Unknown token type: '" + name
                    + "', must be one of [symbol, punctuation, digit, whitespace, letter, custom]");
            }
        }
        return c -> {
            for (IntPredicate matcher : matchers) {
                if (matcher.test(c)) {
                    return true;
                }
            }
            return false;
        };
    }

    static final class NGram extends AbstractTokenizerFactory {
        private final int minGram;
        private final int maxGram;
        private final IntPredicate tokenChars;

        NGram(IndexSettings indexSettings, Environment environment, String name, Settings settings) {
            super(indexSettings, settings, name);
            this.minGram = settings.getAsInt("min_gram", NGramTokenizer.DEFAULT_MIN_NGRAM_SIZE);
            this.maxGram = settings.getAsInt("max_gram", NGramTokenizer.DEFAULT_MAX_NGRAM_SIZE);
            int maxDiff = indexSettings.getMaxNgramDiff();
            if (maxGram - minGram > maxDiff) {
                throw new IllegalArgumentException("The difference between max_gram and min_gram in NGram Tokenizer must be "
                    + "less than or equal to: [" + maxDiff + "] but was [" + (maxGram - minGram) + "]. This limit can be set "
                    + "by changing the [" + IndexSettings.MAX_NGRAM_DIFF_SETTING.getKey() + "] index level setting.");
            }
            this.tokenChars = tokenChars(settings);
        }

        @Override
        public Tokenizer create() {
            if (tokenChars == null) {
                return new NGramTokenizer(minGram, maxGram);
            }
            IntPredicate chars = tokenChars;
            return new NGramTokenizer(minGram, maxGram) {
                @Override
                protected boolean isTokenChar(int chr) {
                    return chars.test(chr);
                }
            };
        }
    }

    static final class EdgeNGram extends AbstractTokenizerFactory {
        private final int minGram;
        private final int maxGram;
        private final IntPredicate tokenChars;

        EdgeNGram(IndexSettings indexSettings, Environment environment, String name, Settings settings) {
            super(indexSettings, settings, name);
            this.minGram = settings.getAsInt("min_gram", NGramTokenizer.DEFAULT_MIN_NGRAM_SIZE);
            this.maxGram = settings.getAsInt("max_gram", NGramTokenizer.DEFAULT_MAX_NGRAM_SIZE);
            this.tokenChars = tokenChars(settings);
        }

        @Override
        public Tokenizer create() {
            if (tokenChars == null) {
                return new EdgeNGramTokenizer(minGram, maxGram);
            }
            IntPredicate chars = tokenChars;
            return new EdgeNGramTokenizer(minGram, maxGram) {
                @Override
                protected boolean isTokenChar(int chr) {
                    return chars.test(chr);
                }
            };
        }
    }

    static final class Keyword extends AbstractTokenizerFactory {
        private final int bufferSize;

        Keyword(IndexSettings indexSettings, Environment environment, String name, Settings settings) {
            super(indexSettings, settings, name);
            this.bufferSize = settings.getAsInt("buffer_size", 256);
        }

        @Override
        public Tokenizer create() {
            return new KeywordTokenizer(bufferSize);
        }
    }

    static final class Whitespace extends AbstractTokenizerFactory {
        private final int maxTokenLength;

        Whitespace(IndexSettings indexSettings, Environment environment, String name, Settings settings) {
            super(indexSettings, settings, name);
            this.maxTokenLength = settings.getAsInt("max_token_length", 255);
        }

        @Override
        public Tokenizer create() {
            return new WhitespaceTokenizer(maxTokenLength);
        }
    }

    static final class HtmlStrip extends AbstractCharFilterFactory {
        private final Set<String> escapedTags;

        HtmlStrip(IndexSettings indexSettings, Environment environment, String name, Settings settings) {
            super(name);
            List<String> tags = settings.getAsList("escaped_tags");
            this.escapedTags = tags.isEmpty() ? null : Set.copyOf(tags);
        }

        @Override
        public Reader create(Reader reader) {
            return new HTMLStripCharFilter(reader, escapedTags);
        }
    }
}
