package io.tether.examples.service;

import org.springframework.http.HttpStatus;

/** A failure the client caused or asked about, answered with its status and {@code {"detail": message}}. */
final class ApiException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	private final HttpStatus status;

	ApiException(HttpStatus status, String message) {
		super(message, null, false, false);
		this.status = status;
	}

	static ApiException badRequest(String message) {
		return new ApiException(HttpStatus.BAD_REQUEST, message);
	}

	static ApiException notFound(String message) {
		return new ApiException(HttpStatus.NOT_FOUND, message);
	}

	HttpStatus status() {
		return status;
	}
}
