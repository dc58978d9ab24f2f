package io.tether.examples.service;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * PBKDF2-HMAC-SHA512 password hashing with the JDK alone: a random 16-byte salt per password, stored with
 * the iteration count as {@code pbkdf2-sha512$iterations$salt$hash} (Base64), so the count can be raised
 * later without invalidating old hashes. Hashing is deliberately slow CPU work: call it off the event loop.
 */
final class Passwords {

	static final int DEFAULT_ITERATIONS = 210_000;   // OWASP's 2023 figure for PBKDF2-HMAC-SHA512

	private static final String ALGORITHM = "PBKDF2WithHmacSHA512";
	private static final String PREFIX = "pbkdf2-sha512";
	private static final int SALT_BYTES = 16;
	private static final int HASH_BITS = 512;

	private final SecureRandom random = new SecureRandom();
	private final int iterations;

	Passwords(int iterations) {
		if (iterations < 1) {
			throw new IllegalArgumentException("iterations must be >= 1, was " + iterations);
		}
		this.iterations = iterations;
	}

	String hash(String password) {
		byte[] salt = new byte[SALT_BYTES];
		random.nextBytes(salt);
		Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
		return PREFIX + "$" + iterations + "$" + b64.encodeToString(salt) + "$" + b64.encodeToString(derive(password, salt, iterations));
	}

	static boolean matches(String password, String stored) {
		String[] parts = stored.split("\\$");
		if (parts.length != 4 || !parts[0].equals(PREFIX)) {
			return false;
		}
		byte[] salt = Base64.getDecoder().decode(parts[2]);
		byte[] expected = Base64.getDecoder().decode(parts[3]);
		return MessageDigest.isEqual(expected, derive(password, salt, Integer.parseInt(parts[1])));
	}

	private static byte[] derive(String password, byte[] salt, int iterations) {
		PBEKeySpec spec = new PBEKeySpec(password.toCharArray(), salt, iterations, HASH_BITS);
		try {
			return SecretKeyFactory.getInstance(ALGORITHM).generateSecret(spec).getEncoded();
		}
		catch (GeneralSecurityException e) {
			throw new IllegalStateException(ALGORITHM + " is not available in this JDK", e);
		}
		finally {
			spec.clearPassword();
		}
	}
}
