package io.kelpie.cli;

import io.kelpie.common.Sizes;
import picocli.CommandLine;

/** Sizes and offsets on the command line: 4096, 512K, 10G, 1.5T. */
final class SizeConverter implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
        try {
            return Sizes.parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
