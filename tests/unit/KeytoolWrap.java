// KeytoolWrap.java - what a Java DMF Scheduler does with a keytool-made
// PKCS#12 keystore: load the AES key by alias and wrap a password.
//   java KeytoolWrap.java KEYSTORE STOREPASS ALIAS PASSWORD gcm|cbc
// prints: <key hex> <iv base64> <ciphertext base64>
import java.security.KeyStore;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;

public class KeytoolWrap {
	public static void main(String[] a) throws Exception {
		KeyStore ks = KeyStore.getInstance("PKCS12");
		try (java.io.FileInputStream in = new java.io.FileInputStream(a[0])) {
			ks.load(in, a[1].toCharArray());
		}
		SecretKey key = (SecretKey) ks.getKey(a[2], a[1].toCharArray());
		StringBuilder hex = new StringBuilder();
		for (byte b : key.getEncoded())
			hex.append(String.format("%02x", b));
		boolean gcm = a[4].equals("gcm");
		byte[] iv = new byte[gcm ? 12 : 16];
		new SecureRandom().nextBytes(iv);
		Cipher c;
		if (gcm) {
			c = Cipher.getInstance("AES/GCM/NoPadding");
			c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, iv));
		} else {
			c = Cipher.getInstance("AES/CBC/PKCS5Padding");
			c.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(iv));
		}
		byte[] ct = c.doFinal(a[3].getBytes("UTF-8"));
		Base64.Encoder e = Base64.getEncoder();
		System.out.println(hex + " " + e.encodeToString(iv) + " " + e.encodeToString(ct));
	}
}
