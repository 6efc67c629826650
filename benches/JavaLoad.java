// The Java producer under the side-by-side benchmark's load (benches/side_by_side.py):
// keyless 200-byte records at RATE per second for SECONDS, acks=all, idempotence,
// linger.ms=5, its default partitioner (KIP-794: adaptive partitioning on), extra
// producer properties as key=value. Writes one line per record to RECORDS, as
// benches/adaptive_bench.c does: "intended sent done partition", in seconds from the
// producer's creation (record i is intended at i / RATE, whether or not send() was
// blocked then; done is -1 when it failed), after a first line
// "# send_end S flushed S t0 T"; prints "t0 T" (CLOCK_MONOTONIC seconds) when it starts.
//
//   java -cp 'target/kafka/lib/*' benches/JavaLoad.java BOOTSTRAP TOPIC SECONDS RATE RECORDS [key=value ...]
import java.io.PrintWriter;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class JavaLoad {
    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.put("bootstrap.servers", args[0]);
        props.put("acks", "all");
        props.put("enable.idempotence", "true");
        props.put("linger.ms", "5");
        for (int i = 5; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            props.put(kv[0], kv[1]);
        }
        String topic = args[1];
        double seconds = Double.parseDouble(args[2]);
        long rate = Long.parseLong(args[3]);
        int cap = (int) (seconds * rate) + 16;
        double[] sentAt = new double[cap];
        double[] done = new double[cap];
        int[] part = new int[cap];
        java.util.Arrays.fill(done, -1);
        byte[] payload = new byte[200];
        java.util.Arrays.fill(payload, (byte) 'x');
        int sent = 0;
        double sendEnd, flushed, start;
        try (KafkaProducer<byte[], byte[]> p =
                 new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            final long t0 = System.nanoTime();
            start = t0 / 1e9;
            System.out.printf(java.util.Locale.ROOT, "t0 %.6f%n", t0 / 1e9); // CLOCK_MONOTONIC on Linux
            System.out.flush();
            double t;
            while ((t = (System.nanoTime() - t0) / 1e9) < seconds) {
                long target = Math.min(cap, (long) (t * rate));
                while (sent < target) {
                    final int i = sent++;
                    sentAt[i] = (System.nanoTime() - t0) / 1e9;
                    p.send(new ProducerRecord<>(topic, null, payload), (md, e) -> {
                        part[i] = e == null ? md.partition() : -1;
                        done[i] = e == null ? (System.nanoTime() - t0) / 1e9 : -1;
                    });
                }
                Thread.sleep(1);
            }
            sendEnd = (System.nanoTime() - t0) / 1e9;
            p.flush();
            flushed = (System.nanoTime() - t0) / 1e9;
        }
        try (PrintWriter out = new PrintWriter(args[4])) {
            out.printf(java.util.Locale.ROOT, "# send_end %.6f flushed %.6f t0 %.6f%n", sendEnd, flushed, start);
            for (int i = 0; i < sent; i++)
                out.printf(java.util.Locale.ROOT, "%.6f %.6f %.6f %d%n", (double) i / rate, sentAt[i], done[i], part[i]);
        }
    }
}
