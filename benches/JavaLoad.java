// The Java producer under the side-by-side benchmark's load (benches/side_by_side.py):
// keyless 200-byte records at RATE per second for SECONDS, acks=all, idempotence,
// linger.ms=5, its default partitioner (KIP-794: adaptive partitioning on), extra
// producer properties as key=value. Each record's latency is from send() to its
// callback (the time rd_kafka_message_latency measures in librdkafka). Prints one
// JSON object: sent, delivered, failed, seconds, and per record its produce time
// (s since start), partition and latency (ms).
//
//   java -cp 'target/kafka/lib/*' benches/JavaLoad.java BOOTSTRAP TOPIC SECONDS RATE [key=value ...]
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
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
        for (int i = 4; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            props.put(kv[0], kv[1]);
        }
        String topic = args[1];
        double seconds = Double.parseDouble(args[2]);
        long rate = Long.parseLong(args[3]);
        int cap = (int) (seconds * rate) + 16;
        double[] at = new double[cap];
        int[] part = new int[cap];
        double[] lat = new double[cap];
        AtomicLong delivered = new AtomicLong(), failed = new AtomicLong();
        byte[] payload = new byte[200];
        java.util.Arrays.fill(payload, (byte) 'x');
        long sent = 0;
        long t0 = System.nanoTime();
        try (KafkaProducer<byte[], byte[]> p =
                 new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            double t;
            while ((t = (System.nanoTime() - t0) / 1e9) < seconds) {
                long target = Math.min(cap, (long) (t * rate));
                while (sent < target) {
                    final int i = (int) sent++;
                    final long start = System.nanoTime();
                    at[i] = (start - t0) / 1e9;
                    p.send(new ProducerRecord<>(topic, null, payload), (md, e) -> {
                        if (e != null) {
                            failed.incrementAndGet();
                            part[i] = -1;
                        } else {
                            delivered.incrementAndGet();
                            part[i] = md.partition();
                            lat[i] = (System.nanoTime() - start) / 1e6;
                        }
                    });
                }
                Thread.sleep(1);
            }
            p.flush();
        }
        double elapsed = (System.nanoTime() - t0) / 1e9;
        StringBuilder out = new StringBuilder();
        out.append("{\"sent\": ").append(sent).append(", \"delivered\": ").append(delivered.get())
           .append(", \"failed\": ").append(failed.get()).append(", \"seconds\": ").append(elapsed)
           .append(", \"records\": [");
        for (int i = 0; i < sent; i++) {
            if (part[i] < 0) continue;
            if (out.charAt(out.length() - 1) != '[') out.append(", ");
            out.append(String.format("[%.4f, %d, %.3f]", at[i], part[i], lat[i]));
        }
        out.append("]}");
        System.out.println(out);
    }
}
